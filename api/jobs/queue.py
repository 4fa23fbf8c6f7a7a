"""Jobs on a real queue (RQ over Redis), run by ``talentmatch worker`` processes.

With ``TALENTMATCH_REDIS_URL`` set, the service's :class:`QueueJobRunner` records a job in
the store (``queued``) and puts it on the RQ queue ``<prefix>jobs``; a ``talentmatch
worker`` (:func:`work`) forks a fresh process per job that runs :func:`run_job`, the same
task functions (:data:`api.jobs.tasks.TASKS`) the embedded thread runner runs.

Why RQ: the tasks are synchronous, CPU-bound functions (retrieval, solvers, imports);
RQ runs each in a forked process (a crash or a leak ends with the job), needs nothing but
Redis, and is small and well kept. (arq is asyncio-first; Celery brings a broker layer
and many settings this service does not need.)

A killed worker: the job process writes a heartbeat key (``<prefix>job-alive:<id>``,
TTL ``job_heartbeat_s``, refreshed three times per TTL) while it runs. A job that the
store says is active but whose heartbeat is gone (and whose RQ job is not waiting in the
queue) is marked failed — by ``talentmatch worker`` every few seconds, and by the API
when the job is read or another job of its kind is submitted. Results are never
half-applied: each task writes its result in one store transaction (a pairing run and its
suggestions together; an index version is published by an atomic rename), so a process
killed before that commit leaves nothing behind, and one killed after it leaves a complete
result whose job is then marked failed ("interrupted"), never a partial one.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

from api.jobs.runner import JobContext, _message, new_job_id
from api.jobs.tasks import TASKS, after_job
from data.store.jobs import Job

logger = logging.getLogger(__name__)

KILLED = "执行任务的进程已退出（被终止或崩溃），任务未完成：请重新提交"
"""The error of a job whose worker died."""

WAITING = frozenset({"queued", "deferred", "scheduled"})
"""RQ states of a job that has not started yet."""


def queue_name(settings: Any) -> str:
    """The RQ queue of this deployment (``<prefix>jobs``, colons as dashes)."""
    return str(settings.redis_prefix).replace(":", "-") + "jobs"


def alive_key(settings: Any, job_id: str) -> str:
    """The heartbeat key of a running job."""
    return f"{settings.redis_prefix}job-alive:{job_id}"


class Heartbeat:
    """Keeps ``key`` alive (TTL ``ttl_s``) from a daemon thread until stopped."""

    def __init__(self, client: Any, key: str, ttl_s: float) -> None:
        """Set the key now; refresh it every ``ttl_s / 3``."""
        self._client = client
        self._key = key
        self._ttl_ms = max(100, int(ttl_s * 1000))
        self._stop = threading.Event()
        self._beat()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="tm-heartbeat")
        self._thread.start()

    def _beat(self) -> None:
        self._client.set(self._key, b"1", px=self._ttl_ms)

    def _loop(self) -> None:
        while not self._stop.wait(self._ttl_ms / 3000):
            try:
                self._beat()
            except Exception:  # Redis away for a moment: the next beat may work
                logger.warning("job heartbeat failed", exc_info=True)

    def stop(self) -> None:
        """Stop beating and delete the key."""
        self._stop.set()
        self._thread.join(timeout=5)
        self._client.delete(self._key)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


class QueueJobRunner:
    """:class:`api.jobs.JobRunner` over the RQ queue (see the module docstring)."""

    def __init__(self, application: Any) -> None:
        """Connect to the Redis of ``application.settings``.

        Raises:
            RuntimeError: Redis is unreachable.
        """
        from rq import Queue

        from api.service.redis_state import connect

        self.application = application
        self.store = application.store
        self.settings = application.settings
        self.client = connect(self.settings.redis_url)
        self.queue = Queue(queue_name(self.settings), connection=self.client)

    def submit(self, kind: str, params: Mapping[str, Any], *, started_by: str) -> Job:
        """Record the job and queue it (see :meth:`api.jobs.JobRunner.submit`)."""
        from data.store import ActiveJobExists

        if kind not in TASKS:
            raise KeyError(f"unknown job kind {kind!r}")
        try:
            job: Job = self.store.add_job(new_job_id(), kind, dict(params),
                                          started_by=started_by, worker="queue")
        except ActiveJobExists as exc:
            active = self.store.get_job(exc.job_id)
            if active is None or not self.reap_if_dead(active):
                raise
            job = self.store.add_job(new_job_id(), kind, dict(params), started_by=started_by,
                                     worker="queue")
        try:
            self.queue.enqueue(run_job, job.id, kind, dict(params), job_id=job.id,
                               job_timeout=self.settings.job_timeout_s, result_ttl=3600,
                               failure_ttl=7 * 86400, description=f"{kind} {job.id}")
        except Exception:
            self.store.finish_job(job.id, error="无法加入任务队列（Redis）：请稍后重新提交")
            raise
        return job

    def get(self, job_id: str) -> Job | None:
        """The job as stored now (marked failed first when its worker died)."""
        job: Job | None = self.store.get_job(job_id)
        if job is not None and job.active and self.reap_if_dead(job):
            job = self.store.get_job(job_id)
        return job

    def wait(self, job_id: str, timeout: float | None = None) -> Job | None:
        """Poll until the job has ended (or ``timeout`` seconds); returns it as stored."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            job = self.get(job_id)
            if job is None or not job.active:
                return job
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} still {job.status}")
            time.sleep(0.2)

    def dead(self, job: Job) -> bool:
        """Whether the active ``job`` has no live process and is not waiting in the queue."""
        from rq.exceptions import NoSuchJobError
        from rq.job import Job as RQJob

        grace = self.settings.job_heartbeat_s
        since = _aware(job.started_at or job.created_at)
        if (dt.datetime.now(dt.UTC) - since).total_seconds() < grace:
            return False
        if self.client.exists(alive_key(self.settings, job.id)):
            return False
        try:
            rq_job = RQJob.fetch(job.id, connection=self.client)
            status = str(getattr(rq_job.get_status(refresh=True), "value", ""))
        except NoSuchJobError:
            return True
        if status == "started" and rq_job.started_at is not None:
            # taken by a worker a moment ago: its process may not have begun to beat yet
            began = _aware(rq_job.started_at)
            if (dt.datetime.now(dt.UTC) - began).total_seconds() < grace:
                return False
        return job.status != "queued" or status not in WAITING

    def reap_if_dead(self, job: Job) -> bool:
        """Mark ``job`` failed when :meth:`dead`; whether it was marked."""
        if not self.dead(job):
            return False
        marked = bool(self.store.finish_job(job.id, error=KILLED, message="已中断"))
        if marked:
            logger.warning("job %s (%s): its worker died; marked failed", job.id, job.kind)
        return marked

    def reap(self) -> list[str]:
        """Mark every active job whose worker died as failed; their ids."""
        found = [*self.store.jobs(status="running", limit=200),
                 *self.store.jobs(status="queued", limit=200)]
        return [j.id for j in found if self.reap_if_dead(j)]

    def close(self) -> None:
        """Release the Redis connection."""
        self.client.close()


def run_job(job_id: str, kind: str, params: dict[str, Any]) -> dict[str, Any] | None:
    """Run a queued job in this (forked) process: heartbeat, mark running, run the task,
    record its result or error, then the after-job hooks (cache, upload file).

    Returns:
        The task's result (also in the store), or None when the job had already ended.
    """
    from api.application import Application
    from api.service.redis_state import connect
    from api.service.shared_state import MATCH_CACHE, JSONCodec, open_shared
    from api.settings import get_settings

    settings = get_settings()
    client = connect(str(settings.redis_url))
    # beat first: opening the application can take seconds on a busy machine
    beat = Heartbeat(client, alive_key(settings, job_id), settings.job_heartbeat_s)
    try:
        application = Application(settings)
    except BaseException:
        beat.stop()
        client.close()
        raise
    store = application.store
    result: dict[str, Any] | None = None
    try:
        if not store.start_job(job_id):
            return None
        loaded: list[Any] = []

        def workflows() -> Any:
            if not loaded:
                loaded.append(application.workflows())
            return loaded[0]

        def report(fraction: float, message: str) -> None:
            store.job_progress(job_id, fraction, message)

        ctx = JobContext(application=application, workflows=workflows, report=report,
                         job_id=job_id)
        try:
            result = TASKS[kind](ctx, params)
        except Exception as exc:
            logger.exception("job %s (%s) failed", job_id, kind)
            store.finish_job(job_id, error=_message(exc))
        else:
            store.finish_job(job_id, result=result)
        job = store.get_job(job_id)
        if job is not None:
            shared = open_shared(settings)
            try:
                after_job(application, job,
                          shared.cache(MATCH_CACHE, 1, 1.0, JSONCodec()).clear)
            finally:
                shared.close()
        return result
    finally:
        beat.stop()
        client.close()
        store.close()


def work(settings: Any, *, burst: bool = False, name: str | None = None) -> None:
    """Run jobs from the queue until stopped (``burst``: until the queue is empty).

    Every ``job_heartbeat_s`` a thread marks the jobs whose worker died as failed.
    """
    from rq import Queue, Worker

    from api.application import Application
    from api.service.redis_state import connect

    client = connect(str(settings.redis_url))
    queue = Queue(queue_name(settings), connection=client)
    stop = threading.Event()

    def reap_loop() -> None:
        while not stop.wait(settings.job_heartbeat_s):
            application = Application(settings)
            try:
                runner = QueueJobRunner(application)
                try:
                    runner.reap()
                finally:
                    runner.close()
            except Exception:
                logger.exception("marking dead jobs failed")
            finally:
                application.store.close()

    reaper = threading.Thread(target=reap_loop, daemon=True, name="tm-reaper")
    reaper.start()
    try:
        Worker([queue], connection=client, name=name).work(burst=burst,
                                                          logging_level="WARNING")
    finally:
        stop.set()
        client.close()
