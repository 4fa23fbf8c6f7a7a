"""What shared state costs per request: the in-process backend against Redis (issue #14).

Run: ``python -m benchmarks.bench_shared_state [--redis redis://127.0.0.1:6379/3]
[--n 5000] [--result-kb 20]``.

For each backend it times, one operation at a time from one thread: a cached-match read
(a ~``result-kb`` JSON result: Redis reads and decodes it), a cached-account read, a login
throttle check-and-count (Redis: one Lua script) and a cache clear. It prints JSON with the
median, p99 and operations per second of each, and the machine's load average (other
processes slow every figure). The Redis keys it writes live under a private prefix and are
deleted afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np

from api.service.shared_state import JSONCodec, SharedBackend, UserCodec, open_shared
from api.service.throttle import LoginThrottle
from api.settings import Settings
from data.store.users import User


def _result(kb: int) -> dict[str, Any]:
    """A match result of about ``kb`` KiB (the shape does not matter to the cache)."""
    match = {"talent_id": "T000123", "score": 0.8123, "explanation": "研究方向与需求高度相关" * 4,
             "features": {f"f{i}": 0.5 for i in range(12)}}
    size = len(json.dumps(match, ensure_ascii=False).encode())
    return {"need_id": "N1", "matches": [dict(match) for _ in range(max(1, kb * 1024 // size))]}


def _time(op: Callable[[int], Any], n: int) -> dict[str, float]:
    times = np.empty(n)
    for i in range(n):
        t0 = time.perf_counter()
        op(i)
        times[i] = time.perf_counter() - t0
    return {"p50_ms": round(float(np.percentile(times, 50)) * 1000, 4),
            "p99_ms": round(float(np.percentile(times, 99)) * 1000, 4),
            "ops_per_s": round(n / float(times.sum()), 1)}


def bench(backend: SharedBackend, n: int, kb: int) -> dict[str, Any]:
    """The figures of one backend."""
    matches = backend.cache("bench-match", 4096, 600.0, JSONCodec())
    users = backend.cache("bench-users", 4096, 600.0, UserCodec())
    result = _result(kb)
    matches.put("k", result)
    users.put("u", User(id="U1", username="bench", role="reviewer", session_epoch=1))
    throttle = LoginThrottle(10 ** 9, 10 ** 9, 60.0,
                             windows=backend.windows("bench-login", 10_000, 60.0))
    out: dict[str, Any] = {"match_read": _time(lambda i: matches.get("k"), n),
           "user_read": _time(lambda i: users.get("u"), n),
           "login_attempt": _time(lambda i: throttle.attempt(f"user{i % 100}", "127.0.0.1"), n),
           "clear": _time(lambda i: matches.clear(), min(n, 1000))}
    out["result_bytes"] = len(JSONCodec().dumps(result))
    return out


def main() -> None:
    """Parse arguments, run both backends, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/3")
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--result-kb", type=int, default=20)
    args = parser.parse_args()
    prefix = f"tmbench{uuid.uuid4().hex[:8]}:"
    out: dict[str, Any] = {"n": args.n, "load_before": list(os.getloadavg())}
    out["local"] = bench(open_shared(Settings()), args.n, args.result_kb)
    redis_backend = open_shared(Settings(redis_url=args.redis, redis_prefix=prefix))
    try:
        out["redis"] = bench(redis_backend, args.n, args.result_kb)
    finally:
        client = getattr(redis_backend, "client", None)
        if client is not None:
            keys = list(client.scan_iter(match=prefix + "*", count=1000))
            if keys:
                client.delete(*keys)
        redis_backend.close()
    out["load_after"] = list(os.getloadavg())
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
