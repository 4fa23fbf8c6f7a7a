"""A bounded load test of a real deployment (issue #14): 2 API workers and 1 job worker on
PostgreSQL and Redis, loopback only.

Run: ``python -m benchmarks.bench_deploy [--talents 2000] [--needs 300] [--seconds 60]
[--clients 8] [--pg postgresql://root@127.0.0.1:5432/test_deploy]
[--redis redis://127.0.0.1:6379/3] [--root var/bench-deploy]``.

It prepares the sample (SQLite + index under ``--root``, reused when there), loads it into a
fresh PostgreSQL schema (dropped afterwards), proposes a pairing run (the review queue),
starts ``talentmatch serve --workers 2`` and ``talentmatch worker`` with a private Redis
prefix (deleted afterwards), warms the match cache, then drives ``--clients`` threads for
``--seconds``: a mix of reads (account, talent search, needs list, review queue), match
requests (20 % with a ``k`` not asked before: cache misses) and review decisions (each
with the version it read; a 409 conflict is re-read and retried). Decisions go to both
workers (the kernel spreads connections; each client also alternates connections). A
pairing run is queued 10 s in; its end is reported.

Lost updates: every decision the service acknowledged (200) must be in the audit trail —
``lost_updates`` counts acknowledged decisions missing from it, and ``version_mismatch`` the
suggestions whose final version is not 1 + their acknowledged decisions.

It prints JSON: requests, req/s, p50/p99/max latency overall and per kind, errors (5xx and
transport errors), conflicts (409, retried), lost updates, the pairing job's outcome and
wall time, and the machine's load average before and after (other processes on the machine
slow every figure; say so when reporting).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def _load_pg(root: Path, pg: str, redis_url: str,
             prefix: str) -> tuple[str, str, Any, str]:
    """A fresh schema in ``pg`` holding the sample of ``root``; (URL, admin token, server
    engine, schema)."""
    import sqlalchemy as sa

    from api.application import Application
    from api.service.auth import create_user
    from api.settings import Settings
    from data.store.engine import normalise_url

    schema = f"tm_bench_{uuid.uuid4().hex[:10]}"
    server = normalise_url(pg)
    admin = sa.create_engine(server)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = server.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False)
    app = Application(Settings(database_url=url, index_dir=root / "index",
                               redis_url=redis_url, redis_prefix=prefix))
    for entity, path in app.sample_files(root / "sample"):
        app.import_file(entity, path, progress=False)
    app.workflows().pair_run(started_by="bench")
    _, token = create_user(app.store, "bench-admin", "admin")
    app.store.close()
    return url, token, admin, schema


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "api.cli", *args], cwd=ROOT, env=env,
                            stdout=log.open("ab"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    import signal

    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


class Load:
    """The clients' shared tallies."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: Counter[str] = Counter()
        self.conflicts = 0
        self.acked: Counter[str] = Counter()

    def record(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.latency[kind].append(seconds)


def _client(n: int, base: str, token: str, ids: list[str], suggestions: list[str],
            stop: threading.Event, load: Load, seed: int) -> None:
    rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {token}"}
    pools = [httpx.Client(base_url=base, headers=headers, timeout=30) for _ in range(2)]
    try:
        i = 0
        while not stop.is_set():
            i += 1
            client = pools[i % 2]  # two connections: the kernel spreads them over workers
            roll = rng.random()
            t0 = time.perf_counter()
            try:
                if roll < 0.45:
                    kind = "read"
                    path = rng.choice(["/api/v1/me", "/api/v1/talents?limit=20",
                                       "/api/v1/needs?limit=50", "/api/v1/suggestions?limit=50"])
                    r = client.get(path)
                elif roll < 0.85:
                    miss = rng.random() < 0.2
                    kind = "match_miss" if miss else "match"
                    k = rng.randint(21, 100) if miss else 20
                    r = client.get(f"/api/v1/needs/{rng.choice(ids)}/matches", params={"k": k})
                else:
                    kind = "decision"
                    sid = rng.choice(suggestions)
                    r = _decide(client, sid, rng, load)
                    if r.status_code == 200:
                        with load.lock:
                            load.acked[sid] += 1
            except httpx.HTTPError as exc:
                with load.lock:
                    load.errors[f"transport:{type(exc).__name__}"] += 1
                continue
            load.record(kind, time.perf_counter() - t0)
            if r.status_code >= 500 or r.status_code in (401, 403, 404, 422):
                with load.lock:
                    load.errors[f"{kind}:{r.status_code}"] += 1
    finally:
        for pool in pools:
            pool.close()


def _decide(client: httpx.Client, sid: str, rng: random.Random, load: Load) -> httpx.Response:
    """Read the suggestion's version and post a decision; a 409 is re-read and retried."""
    for _ in range(5):
        seen = client.get(f"/api/v1/suggestions/{sid}")
        if seen.status_code != 200:
            return seen
        body = {"status": rng.choice(["approved", "rejected", "deferred"]),
                "reason": "负载测试", "version": seen.json()["version"]}
        r = client.post(f"/api/v1/suggestions/{sid}/decision", json=body)
        if r.status_code != 409:
            return r
        with load.lock:
            load.conflicts += 1
    return r


def _summary(values: list[float]) -> dict[str, float]:
    a = np.array(values) * 1000
    return {"n": len(values), "p50_ms": round(float(np.percentile(a, 50)), 1),
            "p99_ms": round(float(np.percentile(a, 99)), 1), "max_ms": round(float(a.max()), 1)}


def main() -> None:
    """Prepare, start the deployment, drive it, print JSON, clean up."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--talents", type=int, default=2000)
    parser.add_argument("--needs", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--pg", default="postgresql://root@127.0.0.1:5432/test_deploy")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/3")
    parser.add_argument("--root", type=Path, default=Path("var/bench-deploy"))
    args = parser.parse_args()
    import redis
    import sqlalchemy as sa

    from api.service.serving import free_port
    from benchmarks.bench_service import prepare_root

    out: dict[str, Any] = {"talents": args.talents, "needs": args.needs,
                           "seconds": args.seconds, "clients": args.clients,
                           "load_before": list(os.getloadavg())}
    root = args.root.resolve() / f"{args.talents}-{args.needs}"
    root.mkdir(parents=True, exist_ok=True)
    out["prepare"] = prepare_root(root, args.talents, args.needs)
    prefix = f"tmbench{uuid.uuid4().hex[:8]}:"
    url, token, admin, schema = _load_pg(root, args.pg, args.redis, prefix)
    env = {**os.environ, "TALENTMATCH_DATABASE_URL": url,
           "TALENTMATCH_INDEX_DIR": str(root / "index"), "TALENTMATCH_DATA_DIR": str(root),
           "TALENTMATCH_REDIS_URL": args.redis, "TALENTMATCH_REDIS_PREFIX": prefix,
           "TALENTMATCH_SECRET_KEY": uuid.uuid4().hex + uuid.uuid4().hex}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    procs = [_start(["serve", "--port", str(port), "--workers", "2", "--no-warm"], env,
                    root / "serve.log"),
             _start(["worker"], env, root / "worker.log")]
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the service did not start: see serve.log")
            time.sleep(0.5)
        headers = {"Authorization": f"Bearer {token}"}
        needs = httpx.get(base + "/api/v1/needs?limit=500", headers=headers, timeout=60).json()
        ids = [n["id"] for n in needs["items"]]
        queue = httpx.get(base + "/api/v1/suggestions?limit=500", headers=headers,
                          timeout=60).json()
        suggestions = [s["id"] for s in queue["items"]][:200]
        t0 = time.perf_counter()
        for i, need in enumerate(ids):  # warm both workers' shared cache (2 connections)
            httpx.get(f"{base}/api/v1/needs/{need}/matches", params={"k": 20},
                      headers=headers, timeout=120)
            if i == 0:
                out["first_match_s"] = round(time.perf_counter() - t0, 2)
        out["warm_s"] = round(time.perf_counter() - t0, 1)
        load = Load()
        stop = threading.Event()
        threads = [threading.Thread(target=_client, args=(n, base, token, ids, suggestions,
                                                          stop, load, n)) for n in
                   range(args.clients)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        time.sleep(min(10.0, args.seconds / 6))
        job = httpx.post(base + "/api/v1/pairing-runs", json={"k": 20}, headers=headers,
                         timeout=30).json()
        time.sleep(max(0.0, args.seconds - (time.perf_counter() - started)))
        stop.set()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        every = [v for vs in load.latency.values() for v in vs]
        out["requests"] = len(every)
        out["req_per_s"] = round(len(every) / wall, 1)
        out["overall"] = _summary(every) if every else {}
        out["by_kind"] = {k: _summary(v) for k, v in sorted(load.latency.items())}
        out["errors"] = sum(load.errors.values())
        out["error_kinds"] = dict(load.errors)
        out["conflicts_retried"] = load.conflicts
        lost = mismatch = 0
        for sid, acked in load.acked.items():
            audit = httpx.get(base + "/api/v1/audit", params={"suggestion_id": sid,
                                                              "limit": 1000},
                              headers=headers, timeout=60).json()
            items = audit.get("items", audit) if isinstance(audit, dict) else audit
            recorded = sum(1 for e in items if e.get("reason") == "负载测试")
            lost += max(0, acked - recorded)
            version = httpx.get(f"{base}/api/v1/suggestions/{sid}", headers=headers,
                                timeout=60).json()["version"]
            mismatch += int(version != 1 + recorded)
        out["decisions_acked"] = sum(load.acked.values())
        out["lost_updates"] = lost
        out["version_mismatch"] = mismatch
        t1 = time.perf_counter()
        while True:
            state = httpx.get(f"{base}/api/v1/jobs/{job['id']}", headers=headers,
                              timeout=60).json()
            if state["status"] not in ("queued", "running") or time.perf_counter() - t1 > 600:
                break
            time.sleep(1)
        out["pairing_job"] = {"status": state["status"], "error": state.get("error"),
                              "finished_after_load_s": round(time.perf_counter() - t1, 1)}
    finally:
        for proc in procs:
            _stop(proc)
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
        client = redis.Redis.from_url(args.redis)
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()
    out["load_after"] = list(os.getloadavg())
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
