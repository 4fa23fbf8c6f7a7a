"""The job runner interface and the embedded runner (a thread pool in the service process).

Routers only call :meth:`JobRunner.submit` and :meth:`JobRunner.get`; what runs a job is
the runner's business. :class:`ThreadJobRunner` runs jobs in a small thread pool of the
service process, persists every state change in the store (``jobs`` table) and, when it
starts, marks the jobs that a previous process left queued or running as failed
(interrupted). The queue-backed runner (:class:`api.jobs.queue.QueueJobRunner`, RQ over
Redis) implements the same methods and runs :data:`api.jobs.tasks.TASKS` by kind name in
``talentmatch worker`` processes.

Job threads run at a lower CPU priority (``nice`` +10 for the thread, Linux), and the
interpreter switches threads every millisecond, so that requests keep their latency while a
job computes.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from data.store.jobs import Job

logger = logging.getLogger(__name__)

T = TypeVar("T")

WORKER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
"""This process's worker name: jobs it runs carry it; other names are from dead processes."""

PROGRESS_EVERY_S = 0.5
"""Progress is written to the store at most this often (and at the end)."""

JOB_NICE = 10
"""CPU niceness added to job threads (Linux: per thread)."""

SWITCH_INTERVAL_S = 0.001
"""The interpreter's thread switch interval while a runner exists (default 5 ms): a request
thread waiting for the GIL held by a computing job gets it within 1 ms."""


class JobRunner(Protocol):
    """What the service needs from a job runner."""

    def submit(self, kind: str, params: Mapping[str, Any], *, started_by: str) -> Job:
        """Queue a job of ``kind`` with JSON ``params``; returns it (status ``queued``).

        Raises:
            ActiveJobExists: a job of the same kind is queued or running.
            KeyError: an unknown kind.
        """
        ...

    def get(self, job_id: str) -> Job | None:
        """The job as stored now, or None."""
        ...

    def wait(self, job_id: str, timeout: float | None = None) -> Job | None:
        """Block until the job has ended (tests, CLI); returns it as stored."""
        ...

    def close(self) -> None:
        """Stop taking jobs (queued ones that never started are marked failed)."""
        ...


@dataclass
class JobContext:
    """What a task gets: the application, the service's workflows and a progress reporter.

    Attributes:
        application: the :class:`api.application.Application`.
        workflows: returns the workflows over the serving index (shared with requests).
        report: ``report(fraction, message)`` records progress (0..1).
        job_id: the job's id (tasks name their files after it).
    """

    application: Any
    workflows: Callable[[], Any]
    report: Callable[[float, str], None]
    job_id: str = ""
    _last: float = field(default=0.0, init=False, repr=False)

    def progress(self, fraction: float, message: str, *, force: bool = False) -> None:
        """Record progress, at most every :data:`PROGRESS_EVERY_S` unless ``force``."""
        now = time.monotonic()
        if force or now - self._last >= PROGRESS_EVERY_S:
            self._last = now
            self.report(fraction, message)

    def iterate(self, message: str, start: float = 0.0, end: float = 1.0
                ) -> Callable[[Iterable[T]], Iterable[T]]:
        """A ``progress=`` wrapper for the workflows' per-item loops.

        Args:
            message: what is being done (``… 12/300`` is appended).
            start: the fraction reported before the first item.
            end: the fraction reported after the last item.

        Returns:
            A function wrapping an iterable; progress goes from ``start`` to ``end``.
        """
        def wrap(items: Iterable[T]) -> Iterator[T]:
            total = len(items) if isinstance(items, Sequence) else 0
            self.progress(start, message, force=True)
            for i, item in enumerate(items, start=1):
                yield item
                if total:
                    self.progress(start + (end - start) * i / total, f"{message} {i}/{total}")
            self.progress(end, message, force=True)

        return wrap


Task = Callable[[JobContext, dict[str, Any]], dict[str, Any]]


def _lower_priority() -> None:
    """Nice the calling thread (Linux: setpriority on the thread id); ignored elsewhere."""
    try:
        tid = threading.get_native_id()
        current = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(19, current + JOB_NICE))
    except (AttributeError, OSError):  # pragma: no cover - not Linux, or not permitted
        pass


def new_job_id() -> str:
    """A sortable, unguessable job id (``J20261130235959-<16 hex>``)."""
    return f"J{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:16]}"


class ThreadJobRunner:
    """Jobs in a thread pool of this process, persisted in the store."""

    def __init__(self, store: Any, tasks: Mapping[str, Task],
                 context: Callable[[str], JobContext], *, workers: int = 2,
                 on_done: Callable[[Job], None] | None = None) -> None:
        """Start the pool and mark jobs interrupted by a previous process as failed.

        Args:
            store: the :class:`data.store.Store`.
            tasks: kind → task function.
            context: job id → the :class:`JobContext` its task runs with.
            workers: threads (jobs of different kinds may run side by side).
            on_done: called with the ended job (e.g. to drop caches); errors are logged.
        """
        self.store = store
        self.tasks = dict(tasks)
        self._context = context
        self._on_done = on_done
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tm-job",
                                        initializer=_lower_priority)
        self._futures: dict[str, Future[None]] = {}
        self._lock = threading.Lock()
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))
        self.interrupted = store.fail_interrupted_jobs(keep_worker=WORKER)
        if self.interrupted:
            logger.warning("marked %d interrupted job(s) as failed: %s", len(self.interrupted),
                           ", ".join(self.interrupted))

    def submit(self, kind: str, params: Mapping[str, Any], *, started_by: str) -> Job:
        """Queue a job (see :meth:`JobRunner.submit`)."""
        if kind not in self.tasks:
            raise KeyError(f"unknown job kind {kind!r}")
        job: Job = self.store.add_job(new_job_id(), kind, dict(params), started_by=started_by,
                                      worker=WORKER)
        try:
            with self._lock:
                self._futures[job.id] = self._pool.submit(self._run, job.id, kind, dict(params))
        except RuntimeError:  # the pool is shut down: free the kind again
            self.store.finish_job(job.id, error="服务正在停止，任务未运行：请稍后重新提交")
            raise
        return job

    def get(self, job_id: str) -> Job | None:
        """The job as stored now."""
        found: Job | None = self.store.get_job(job_id)
        return found

    def wait(self, job_id: str, timeout: float | None = None) -> Job | None:
        """Block until the job has ended here (tests, CLI); returns it as stored."""
        with self._lock:
            future = self._futures.get(job_id)
        if future is not None:
            future.result(timeout=timeout)
        return self.get(job_id)

    def close(self) -> None:
        """Stop the pool; jobs that never started are marked failed."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            cancelled = [j for j, f in self._futures.items() if f.cancelled()]
        for job_id in cancelled:
            self.store.finish_job(job_id, error="服务已停止，任务未运行：请重新提交")

    def _run(self, job_id: str, kind: str, params: dict[str, Any]) -> None:
        try:
            if not self.store.start_job(job_id):
                return
            self._execute(job_id, kind, params)
            job = self.store.get_job(job_id)
            if self._on_done is not None and job is not None:
                try:
                    self._on_done(job)
                except Exception:  # a cache hook must not kill the worker
                    logger.exception("job %s: on_done hook failed", job_id)
        finally:
            with self._lock:
                self._futures.pop(job_id, None)

    def _execute(self, job_id: str, kind: str, params: dict[str, Any]) -> None:
        try:
            result = self.tasks[kind](self._context(job_id), params)
        except Exception as exc:
            logger.exception("job %s (%s) failed", job_id, kind)
            self.store.finish_job(job_id, error=_message(exc))
        else:
            self.store.finish_job(job_id, result=result)


def _message(exc: Exception) -> str:
    """A user-facing message: domain errors carry Chinese text; others name their type."""
    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, LookupError | ValueError | RuntimeError) or \
            type(exc).__module__.split(".")[0] in ("data", "embeddings", "matching", "api"):
        return text
    return f"任务出错（{type(exc).__name__}）：{text}"
