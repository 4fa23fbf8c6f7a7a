"""Request latency while background jobs run (issue #11: no API request over 2 s).

Run: ``python -m benchmarks.bench_jobs [--talents 2000] [--needs 300] [--concurrency 4]
[--root DIR]``.

It prepares the sample (default: the sample size, 2,000 talents and 300 needs) into a
folder, starts ``uvicorn`` over it (one process), then runs the long jobs one after the
other — a pairing run, the demand-map computation (queued by the first ``GET
/api/v1/demand-map``), an event shortlist and an index update — and, while each job is
queued or running, drives ``--concurrency`` clients over a mix of API reads (account,
searches, need and talent matches, 揭榜挂帅 leads, the review queue, the job itself). One
request per endpoint first warms the service (index and encoder load; reported apart as
``warmup_ms``). It prints JSON: per job its wall time and the request count, p50, p99 and
max latency per endpoint, and ``max_ms`` / ``over_2s`` over every request made while a job
ran, with the machine's load average (other processes slow every figure).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from benchmarks.bench_service import admin_token, need_ids, prepare_root, start_server

LIMIT_S = 2.0


def _paths(ids: list[str], talents: list[str], challenges: list[str]) -> dict[str, list[str]]:
    return {"me": ["/api/v1/me"],
            "talents.search": ["/api/v1/talents?limit=20", "/api/v1/talents?q=工程&limit=20"],
            "needs.list": ["/api/v1/needs?limit=50"],
            "needs.matches": [f"/api/v1/needs/{i}/matches?k=20" for i in ids],
            "talents.matches": [f"/api/v1/talents/{t}/matches?k=10" for t in talents],
            "leads": [f"/api/v1/challenges/{c}/leads?n=5" for c in challenges],
            "suggestions": ["/api/v1/suggestions?limit=50"],
            "demand_map": ["/api/v1/demand-map"]}


def _drive(base: str, headers: dict[str, str], paths: dict[str, list[str]], job_id: str,
           concurrency: int, seed: int, errors_out: Counter[str]) -> dict[str, list[float]]:
    """Request the mix from ``concurrency`` clients until the job has ended (server errors
    are counted into ``errors_out``)."""
    latencies: dict[str, list[float]] = defaultdict(list)
    errors = errors_out
    lock = threading.Lock()
    done = threading.Event()

    def watch() -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            while not done.is_set():
                t0 = time.perf_counter()
                job = client.get(f"/api/v1/jobs/{job_id}").json()
                with lock:
                    latencies["jobs.get"].append(time.perf_counter() - t0)
                if job["status"] in ("succeeded", "failed"):
                    done.set()
                time.sleep(0.2)

    def worker(n: int) -> None:
        rng = random.Random(seed + n)
        names = sorted(paths)
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            while not done.is_set():
                name = rng.choice(names)
                t0 = time.perf_counter()
                response = client.get(rng.choice(paths[name]))
                elapsed = time.perf_counter() - t0
                with lock:
                    latencies[name].append(elapsed)
                    if response.status_code >= 500:
                        errors[f"{name} {response.status_code}"] += 1

    threads = [threading.Thread(target=watch)] + [
        threading.Thread(target=worker, args=(n,)) for n in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies


def _summary(latencies: dict[str, list[float]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, values in sorted(latencies.items()):
        ms = np.array(values) * 1000
        out[name] = {"n": len(values), "p50_ms": round(float(np.percentile(ms, 50)), 1),
                     "p99_ms": round(float(np.percentile(ms, 99)), 1),
                     "max_ms": round(float(ms.max()), 1)}
    return out


def warm_up(base: str, headers: dict[str, str], paths: dict[str, list[str]]) -> dict[str, Any]:
    """One request per endpoint before any job (what ``talentmatch serve`` warms in the
    background: the index and encoder load on the first match); reported apart."""
    out: dict[str, Any] = {}
    with httpx.Client(base_url=base, headers=headers, timeout=300) as client:
        for name, choices in sorted(paths.items()):
            if name == "demand_map":
                continue  # its first GET queues the job measured below
            t0 = time.perf_counter()
            client.get(choices[0])
            out[name] = round((time.perf_counter() - t0) * 1000, 1)
    return out


def run_jobs(base: str, headers: dict[str, str], paths: dict[str, list[str]],
             concurrency: int, seed: int, kinds: list[str] | None = None) -> dict[str, Any]:
    """Each long job in turn (or those of ``kinds``), with the request mix while it runs."""
    starts = {
        "pairing": lambda c: c.post("/api/v1/pairing-runs", json={}),
        "demand_map": lambda c: c.get("/api/v1/demand-map?by=chain,cluster"),
        "event_shortlist": lambda c: c.post("/api/v1/events/EV-sample/shortlist", json={}),
        "index_update": lambda c: c.post("/api/v1/index/update"),
    }
    report: dict[str, Any] = {}
    every: list[float] = []
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        for kind, start in starts.items():
            if kinds and kind not in kinds:
                continue
            t0 = time.perf_counter()
            response = start(client)
            answer_s = time.perf_counter() - t0
            if response.status_code != 202:
                raise RuntimeError(f"{kind}: {response.status_code} {response.text[:300]}")
            body = response.json()
            job_id = body["job"]["id"] if "job" in body else body["id"]
            errors: Counter[str] = Counter()
            latencies = _drive(base, headers, paths, job_id, concurrency, seed, errors)
            job = client.get(f"/api/v1/jobs/{job_id}").json()
            every += [v for values in latencies.values() for v in values]
            report[kind] = {"status": job["status"], "answer_202_ms": round(answer_s * 1000, 1),
                            "job_wall_s": round(time.perf_counter() - t0, 1),
                            "endpoints": _summary(latencies), "server_errors": dict(errors)}
    report["max_ms"] = round(max(every) * 1000, 1) if every else 0.0
    report["requests"] = len(every)
    report["over_2s"] = sum(v > LIMIT_S for v in every)
    return report


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and print its JSON."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--talents", type=int, default=2000)
    p.add_argument("--needs", type=int, default=300)
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--root", type=Path, default=None, help="prepared folder to reuse / keep")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--jobs", default="", help="comma-separated kinds to run (default: all)")
    args = p.parse_args(argv)
    from api.service.serving import free_port
    from data.store import Store

    root = args.root or Path(tempfile.mkdtemp(prefix="tm-bench-jobs-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        prep = prepare_root(root, args.talents, args.needs)
        token, ids = admin_token(root), need_ids(root)
        with Store.open(f"sqlite:///{root / 'tm.db'}") as store:
            talents = store.ids("talents")[:200]
            challenges = store.ids("challenges")
        port = args.port or free_port()
        proc = start_server(root, port)
        try:
            base, headers = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {token}"}
            paths = _paths(ids, talents, challenges)
            warm = warm_up(base, headers, paths)
            kinds = [k for k in args.jobs.split(",") if k]
            jobs = run_jobs(base, headers, paths, args.concurrency, args.seed, kinds)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        out = {"talents": args.talents, "needs": args.needs, "cpus": os.cpu_count(),
               "concurrency": args.concurrency, "load_avg_1m": round(os.getloadavg()[0], 1),
               "prepare": prep, "warmup_ms": warm, "jobs": jobs}
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        return out
    finally:
        if args.root is None:
            shutil.rmtree(root, True)


if __name__ == "__main__":
    main()
