"""Service benchmark over loopback: ``GET /api/v1/needs/{id}/matches?k=20`` and ``/healthz``.

Run: ``python -m benchmarks.bench_service [--talents 114000] [--needs 2000] [--requests 4000]
[--concurrency 16] [--time-cap 120] [--root DIR]``.

It generates the sample at ``--talents`` into a folder (a temporary one unless ``--root``;
an already prepared ``--root`` is reused), loads it and builds the index through
:class:`api.application.Application`, starts ``uvicorn`` (one process, started by this script)
on 127.0.0.1, then drives a bounded load generator (a thread pool of ``--concurrency`` httpx
clients, a fixed number of requests and a time cap) and prints JSON: req/s, p50 and p99 for
the matches endpoint (over every need id, in random order) and for ``/healthz`` (the baseline).

The match cache is keyed by (index version, ranker version, need id, need hash, k); a warm-up
pass over every need id fills it first and is reported apart as ``warmup`` (cold latencies).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np


def prepare_root(root: Path, talents: int, needs: int) -> dict[str, Any]:
    """Sample, store and index in ``root`` (skipped when already there); returns timings."""
    from api.service.demo import prepare

    if (root / "index" / "CURRENT").exists():
        return {"reused": True}
    t0 = time.perf_counter()
    prepare(root, talents=talents, needs=needs, pair=False)
    return {"reused": False, "prepare_s": round(time.perf_counter() - t0, 1)}


def admin_token(root: Path) -> str:
    """A fresh admin API token in the store of ``root``."""
    import uuid

    from api.application import Application
    from api.service.auth import create_user
    from api.settings import Settings

    app = Application(Settings(database_url=f"sqlite:///{root / 'tm.db'}",
                               index_dir=root / "index"))
    _, token = create_user(app.store, f"bench-{uuid.uuid4().hex[:6]}", "admin")
    return token


def need_ids(root: Path) -> list[str]:
    """Every need and challenge id of the store in ``root``."""
    from data.store import Store

    with Store.open(f"sqlite:///{root / 'tm.db'}") as store:
        return store.ids("needs") + store.ids("challenges")


def start_server(root: Path, port: int) -> subprocess.Popen[bytes]:
    """uvicorn serving ``create_app()`` over ``root`` on 127.0.0.1:``port``."""
    env = {**os.environ, "TALENTMATCH_DATABASE_URL": f"sqlite:///{root / 'tm.db'}",
           "TALENTMATCH_INDEX_DIR": str(root / "index")}
    cmd = [sys.executable, "-m", "uvicorn", "api.service.app:create_app", "--factory",
           "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
           "--no-access-log"]
    proc = subprocess.Popen(cmd, env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
        if proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError("the service did not start")


def load(base: str, paths: list[str], headers: dict[str, str], requests: int,
         concurrency: int, time_cap: float) -> dict[str, Any]:
    """Send ``requests`` GETs (cycling through ``paths``) from ``concurrency`` threads.

    Returns:
        requests done, errors, wall seconds, req/s, p50/p99/max latency in ms.
    """
    latencies: list[float] = []
    errors = 0
    counter = iter(range(requests))
    lock = threading.Lock()
    deadline = time.monotonic() + time_cap

    def worker() -> None:
        nonlocal errors
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            while time.monotonic() < deadline:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                t0 = time.perf_counter()
                r = client.get(paths[i % len(paths)])
                dt = time.perf_counter() - t0
                with lock:
                    latencies.append(dt)
                    errors += r.status_code != 200

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for _ in range(concurrency):
            pool.submit(worker)
    wall = time.perf_counter() - t0
    ms = np.array(latencies) * 1000 if latencies else np.zeros(1)
    return {"requests": len(latencies), "errors": errors, "wall_s": round(wall, 2),
            "req_s": round(len(latencies) / wall, 1) if wall else 0.0,
            "p50_ms": round(float(np.percentile(ms, 50)), 1),
            "p99_ms": round(float(np.percentile(ms, 99)), 1),
            "max_ms": round(float(ms.max()), 1), "concurrency": concurrency}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and print its JSON."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--talents", type=int, default=20000)
    p.add_argument("--needs", type=int, default=300)
    p.add_argument("--requests", type=int, default=3000)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--time-cap", type=float, default=120.0)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--root", type=Path, default=None, help="prepared folder to reuse / keep")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    from api.service.serving import free_port

    root = args.root or Path(tempfile.mkdtemp(prefix="tm-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        prep = prepare_root(root, args.talents, args.needs)
        token, ids = admin_token(root), need_ids(root)
        port = args.port or free_port()
        proc = start_server(root, port)
        try:
            base, headers = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {token}"}
            paths = [f"/api/v1/needs/{i}/matches?k=20" for i in ids]
            warm = load(base, paths, headers, len(paths), 2, args.time_cap)
            random.Random(args.seed).shuffle(paths)
            matches = load(base, paths, headers, args.requests, args.concurrency,
                           args.time_cap)
            health = load(base, ["/healthz"], {}, args.requests, args.concurrency,
                          args.time_cap)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        out = {"talents": args.talents, "need_ids": len(ids), "cpus": os.cpu_count(),
               "prepare": prep, "warmup": warm, "matches_k20": matches, "healthz": health}
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        return out
    finally:
        if args.root is None:
            shutil.rmtree(root, True)


if __name__ == "__main__":
    main()
