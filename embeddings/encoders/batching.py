"""Running an encoder's micro-batches on a few worker threads, and CPU capability checks.

The torch runtimes run ``threads`` worker threads with one torch thread each, micro-batches in
parallel: unlike intra-op threads they do not stall each other in lock-step when the cores are
shared with other processes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

Rows = slice | np.ndarray


def cpu_has_native_bf16() -> bool:
    """Whether the CPU has bf16 dot-product instructions (AVX512_BF16 or AMX) and torch's
    oneDNN uses them; elsewhere bf16 is emulated and fp32 is as fast.

    Returns:
        True when bf16 matrix products run natively.
    """
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            flags = next((line for line in info if line.startswith("flags")), "").split()
    except OSError:
        return False
    if "avx512_bf16" not in flags and "amx_bf16" not in flags:
        return False
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


class BatchPool:
    """Micro-batches run in order on ``threads`` workers (one torch thread each), or inline.

    Args:
        threads: worker threads; 0 runs every batch inline in the caller's thread.
        name: thread name prefix.
    """

    def __init__(self, threads: int, name: str) -> None:
        self.threads = max(1, threads)
        self._pool: ThreadPoolExecutor | None = None
        if threads > 0:
            import torch

            self._pool = ThreadPoolExecutor(threads, thread_name_prefix=name,
                                            initializer=torch.set_num_threads, initargs=(1,))

    def submit(self, forward: Callable[[Any], np.ndarray], batch: Any) -> Future[np.ndarray]:
        """Run ``forward(batch)`` on a worker (or now, inline).

        Args:
            forward: the batch function.
            batch: its argument.

        Returns:
            A future of its result.
        """
        if self._pool is not None:
            return self._pool.submit(forward, batch)
        done: Future[np.ndarray] = Future()
        done.set_result(forward(batch))
        return done

    def fill(self, out: np.ndarray, batches: Iterable[tuple[Rows, Any]],
             forward: Callable[[Any], np.ndarray], bar: Any = None) -> None:
        """Write ``out[rows] = forward(batch)`` for every (rows, batch), at most
        ``2 * threads`` batches in flight.

        Args:
            out: the output array.
            batches: (rows of ``out``, forward's argument) pairs.
            forward: the batch function, returning one row per text.
            bar: a progress bar (``update(n)``) or None.
        """
        pending: deque[tuple[Rows, Future[np.ndarray]]] = deque()
        for rows, batch in batches:
            pending.append((rows, self.submit(forward, batch)))
            while len(pending) > 2 * self.threads:
                _collect(pending.popleft(), out, bar)
        while pending:
            _collect(pending.popleft(), out, bar)


def _collect(item: tuple[Rows, Future[np.ndarray]], out: np.ndarray, bar: Any) -> None:
    rows, future = item
    vectors = future.result()
    out[rows] = vectors
    if bar is not None:
        bar.update(len(vectors))
