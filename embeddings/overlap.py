"""A shared thread pool that runs a query's dense stage beside its BM25 stage.

One query's retrieval has two independent halves: encoding the query and searching the dense
summary index (torch and faiss, which release the GIL), and scoring BM25 over the posting
columns (numpy and scipy, on the calling thread). :meth:`embeddings.hybrid.HybridRetriever.search`
submits the first half here and computes the second meanwhile, so a query waits for the
longer half instead of both (at 114,000 talents on 2 cores: encoding + BM25 11.0 → 7.3 ms
p50 with the same vectors; docs/performance.md).

The pool is created on first use in each process (a forked worker gets its own) and holds
``THREADS`` threads; they only wait on the encoder's own pool and run faiss, so a larger
number of request threads queues here rather than oversubscribing the cores. Jobs must not
submit to this pool themselves (they would wait on a slot they hold).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

THREADS = 8
"""Dense stages in flight at once per process."""

T = TypeVar("T")

_lock = threading.Lock()
_state: dict[str, Any] = {"pool": None, "pid": None}


def submit(fn: Callable[..., T], *args: Any) -> Future[T]:
    """Run ``fn(*args)`` on the shared query pool.

    Args:
        fn: the job (must not submit to this pool itself).
        *args: its arguments.

    Returns:
        Its future; ``result()`` re-raises the job's exception.
    """
    with _lock:
        if _state["pool"] is None or _state["pid"] != os.getpid():
            _state["pool"] = ThreadPoolExecutor(THREADS, thread_name_prefix="tm-query")
            _state["pid"] = os.getpid()
        pool: ThreadPoolExecutor = _state["pool"]
    return pool.submit(fn, *args)
