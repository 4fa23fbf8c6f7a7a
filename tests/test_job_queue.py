"""The queue runner's liveness rules (issue #14, item 2): a job waiting in the RQ queue is
alive, a running job is alive while its heartbeat is, and a job whose process died is
marked failed when read — which also frees its kind for the next submission."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from api.jobs.queue import KILLED, Heartbeat, QueueJobRunner, alive_key, queue_name
from api.settings import Settings
from data.store import ActiveJobExists, Store

BEAT_S = 0.3


@pytest.fixture
def runner(tmp_path: Path, redis_url: tuple[str, str]) -> Iterator[QueueJobRunner]:
    url, prefix = redis_url
    store = Store.open(f"sqlite:///{tmp_path / 'store.db'}")
    settings = Settings(redis_url=url, redis_prefix=prefix, job_heartbeat_s=BEAT_S)
    queue = QueueJobRunner(SimpleNamespace(store=store, settings=settings))
    try:
        yield queue
    finally:
        queue.queue.delete(delete_jobs=True)
        queue.close()
        store.close()


def test_a_queued_job_waits_and_a_silent_running_job_is_failed(runner: QueueJobRunner) -> None:
    job = runner.submit("pairing", {"k": 5}, started_by="ops")
    assert runner.queue.name == queue_name(runner.settings) and job.id in runner.queue.job_ids
    time.sleep(BEAT_S * 2)
    assert runner.get(job.id).status == "queued"  # type: ignore[union-attr]
    with pytest.raises(ActiveJobExists):
        runner.submit("pairing", {}, started_by="ops")
    runner.queue.empty()  # as if a worker took it, then died before any heartbeat
    assert runner.store.start_job(job.id)
    time.sleep(BEAT_S * 2)
    failed = runner.get(job.id)
    assert failed is not None and failed.status == "failed" and failed.error == KILLED
    again = runner.submit("pairing", {}, started_by="ops")
    assert again.status == "queued"


def test_a_running_job_with_a_heartbeat_stays_running(runner: QueueJobRunner) -> None:
    job = runner.submit("demand_map", {}, started_by="ops")
    runner.queue.empty()
    beat = Heartbeat(runner.client, alive_key(runner.settings, job.id), BEAT_S)
    try:
        assert runner.store.start_job(job.id)
        time.sleep(BEAT_S * 3)
        assert runner.get(job.id).status == "running"  # type: ignore[union-attr]
        assert runner.reap() == []
    finally:
        beat.stop()
    time.sleep(BEAT_S * 1.5)
    assert runner.reap() == [job.id]
    assert runner.get(job.id).status == "failed"  # type: ignore[union-attr]
