"""Memory of the API workers, and the cold path over HTTP: ``talentmatch serve --workers N``.

Run: ``python -m benchmarks.bench_memory --root DIR [--workers 2] [--redis-url URL]
[--baseline-path CHECKOUT]`` over a folder prepared by :mod:`benchmarks.bench_service`.

It starts ``talentmatch serve --workers N --no-warm`` over ``DIR`` (Redis for the shared
state: its database is emptied first, so every match is a cache miss), asks once for every
need id's matches from 2 client threads (each a cache miss, so every worker loads the index
and ranks), then reads each worker's ``/proc/<pid>/smaps_rollup``: resident (RSS), PSS (the
shared pages — the memory-mapped index arrays, libraries — divided among the processes that
map them), and their anonymous and file-backed parts. With ``--baseline-path`` it first does
the same with the code of another checkout (``PYTHONPATH``), e.g. the commit before this
change. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.bench_service import admin_token, load, need_ids

FIELDS = ("Rss", "Pss", "Pss_Anon", "Pss_File", "Anonymous")


def smaps(pid: int) -> dict[str, int]:
    """MB of each of :data:`FIELDS` for a process."""
    out = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in FIELDS:
            out[key] = int(rest.split()[0]) // 1024
    return out


def children(pid: int) -> list[int]:
    """The child process ids of ``pid``."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(c) for c in text]
    return found


def run(root: Path, workers: int, redis_url: str, port: int, code: str | None) -> dict[str, Any]:
    """Serve ``root`` with ``workers`` workers (the code of ``code``, or this checkout)."""
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    env = {**os.environ, "TALENTMATCH_DATABASE_URL": f"sqlite:///{root / 'tm.db'}",
           "TALENTMATCH_INDEX_DIR": str(root / "index"), "TALENTMATCH_REDIS_URL": redis_url}
    if code:
        env["PYTHONPATH"] = code
    cmd = [sys.executable, "-m", "api.cli", "serve", "--workers", str(workers), "--no-warm",
           "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, cwd=code or None, stdout=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        headers = {"Authorization": f"Bearer {admin_token(root)}"}
        paths = [f"/api/v1/needs/{i}/matches?k=20" for i in need_ids(root)]
        first = load(base, paths[:4], headers, 4, 2, 300)  # each worker loads its index
        cold = load(base, paths[4:], headers, len(paths) - 4, 2, 600)
        time.sleep(1)
        procs = [p for c in children(proc.pid) for p in [c, *children(c)]]
        mem = {p: smaps(p) for p in procs}
        workers_mem = [m for m in mem.values() if m.get("Rss", 0) > 500]
        return {"code": code or "this checkout", "first_requests": first, "cold_matches": cold,
                "workers": workers_mem,
                "pss_total_mb": sum(m["Pss"] for m in workers_mem),
                "loadavg": [round(x, 2) for x in os.getloadavg()]}
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and print its JSON."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", type=Path, required=True)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/5")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--baseline-path", default=None,
                   help="a checkout whose code to measure first (PYTHONPATH)")
    args = p.parse_args(argv)
    from api.service.serving import free_port

    out: dict[str, Any] = {"root": str(args.root), "cpus": os.cpu_count()}
    if args.baseline_path:
        out["baseline"] = run(args.root, args.workers, args.redis_url,
                              args.port or free_port(), args.baseline_path)
    out["current"] = run(args.root, args.workers, args.redis_url, args.port or free_port(),
                         None)
    sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    return out


if __name__ == "__main__":
    main()
