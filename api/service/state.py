"""What the running service holds: the application, the workflows over the serving index,
the match cache, short-lived account lookups and the background job runner.

Match results are cached by (index version, ranker version, need id, need content hash, k);
a rebuilt index (checked at most once a second) is picked up without a restart.

The caches, the login throttle's windows and the job runner come from the deployment's
:mod:`api.service.shared_state` backend: in process for the embedded default (one
``serve`` process, jobs in its threads), or Redis when ``TALENTMATCH_REDIS_URL`` is set —
then every API worker sees the same caches and counters, a cache cleared on one worker is
cleared on all at once, and jobs go to the queue run by ``talentmatch worker``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from api.application import Application
from api.service.auth import PasswordChecker, Sessions
from api.service.secret import session_key
from api.service.shared_state import (
    LRU,
    MATCH_CACHE,
    USERS_CACHE,
    JSONCodec,
    UserCodec,
    open_shared,
)
from api.service.throttle import MAX_TRACKED, LoginThrottle
from data.records import Need
from data.store.users import User

if TYPE_CHECKING:
    from api.jobs import JobContext, JobRunner
    from api.workflows import Workflows
    from data.store.jobs import Job

logger = logging.getLogger(__name__)

CACHE_SIZE = 4096
MATCH_TTL_S = 3600.0
"""A cached match lives at most this long (keys carry the index and ranker versions)."""
ENCODED_SIZE = 256
"""Encoded JSON of recently served cached results kept per process."""
VERSION_CHECK_S = 1.0
USER_TTL_S = 5.0
USER_CACHE_SIZE = 4096
"""Account lookups kept (by token hash or user id); unknown tokens count too, so bounded."""


class ServiceState:
    """The service's long-lived objects (one per app)."""

    def __init__(self, application: Application) -> None:
        """Wrap ``application`` (its settings give the session key and the login limits).

        Raises:
            SecretKeyError: the configured session key is unusable.
        """
        self.application = application
        settings = application.settings
        self.sessions = Sessions(session_key(settings))
        self.passwords = PasswordChecker(settings.login_concurrency)
        self.shared = open_shared(settings)
        self.throttle = LoginThrottle(
            settings.login_max_failures, settings.login_max_failures_per_ip,
            settings.login_window_s,
            windows=self.shared.windows("login", MAX_TRACKED, settings.login_window_s))
        self._lock = threading.Lock()
        self._workflows: Workflows | None = None
        self._versions: tuple[str | None, int] | None = None
        self._checked = 0.0
        self._loading: tuple[str | None, int] | None = None
        self._cache = self.shared.cache(MATCH_CACHE, CACHE_SIZE, MATCH_TTL_S, JSONCodec())
        self._encoded: LRU[int, tuple[dict[str, Any], bytes]] = LRU(ENCODED_SIZE)
        self._users = self.shared.cache(USERS_CACHE, USER_CACHE_SIZE, USER_TTL_S, UserCodec())
        self.hits = 0
        self.misses = 0
        self._jobs: JobRunner | None = None

    # -- background jobs --------------------------------------------------------------------
    @property
    def jobs(self) -> JobRunner:
        """The job runner (:class:`api.jobs.JobRunner`), started on first use.

        Embedded (no Redis): a thread pool here; starting it marks the jobs a previous
        process left queued or running as failed. With Redis: the queue of
        ``talentmatch worker`` (:class:`api.jobs.queue.QueueJobRunner`), whose dead jobs
        are found by their missing heartbeat instead.
        """
        interrupted: list[str] = []
        with self._lock:
            if self._jobs is None:
                if self.shared.shared:
                    from api.jobs.queue import QueueJobRunner

                    self._jobs = QueueJobRunner(self.application)
                else:
                    from api.jobs import TASKS, ThreadJobRunner

                    threads = ThreadJobRunner(self.application.store, TASKS, self._job_context,
                                              on_done=self._job_done)
                    interrupted = list(threads.interrupted)
                    self._jobs = threads
            runner = self._jobs
        for job_id in interrupted:  # outside the lock: clear_cache takes it
            self._job_done(self.application.store.get_job(job_id))
        return runner

    def _job_context(self, job_id: str) -> JobContext:
        from api.jobs import JobContext

        store = self.application.store

        def report(fraction: float, message: str) -> None:
            store.job_progress(job_id, fraction, message)

        return JobContext(application=self.application, workflows=lambda: self.workflows,
                          report=report, job_id=job_id)

    def _job_done(self, job: Job | None) -> None:
        """After a job (or its interruption): imports and index changes invalidate cached
        matches; an import's uploaded file is removed whatever the outcome."""
        if job is None:
            return
        from api.jobs.tasks import after_job

        after_job(self.application, job, self.clear_cache)

    def close(self) -> None:
        """Stop the job runner and release shared-state connections (at shutdown)."""
        with self._lock:
            runner, self._jobs = self._jobs, None
        if runner is not None:
            runner.close()
        self.shared.close()

    # -- versions and workflows -------------------------------------------------------------
    def versions(self) -> tuple[str | None, int]:
        """(serving index version name, ranker version), re-read at most once a second.

        When the version on disk changes (an index update job, a new ranker), the new
        workflows load in a background thread while the current ones keep serving; they swap
        in, and the match cache is dropped, once loaded, so no request waits for an index to
        load.
        """
        now = time.monotonic()
        if self._versions is None or now - self._checked > VERSION_CHECK_S:
            from embeddings.persist import VersionedFolder
            from matching.ranker import current_version

            index = VersionedFolder(Path(self.application.settings.index_dir)).current_name()
            ranker_dir = self.application.ranker_dir
            ranker = current_version(ranker_dir) if ranker_dir.exists() else 0
            on_disk = (index, ranker)
            with self._lock:
                self._checked = now
                if self._versions is None or (self._workflows is None
                                              and self._versions != on_disk):
                    self._drop_cached()
                    self._versions = on_disk
                elif self._versions != on_disk and self._loading != on_disk:
                    self._loading = on_disk
                    threading.Thread(target=self._swap_in, args=(on_disk,), daemon=True,
                                     name="tm-swap-in").start()
        assert self._versions is not None
        return self._versions

    def _drop_cached(self) -> None:
        """Forget this process's cached matches after a version change (keys carry the
        versions, so a shared cache needs no clearing: its old entries expire)."""
        if not self.shared.shared:
            self._cache.clear()
        self._encoded.clear()

    def _swap_in(self, target: tuple[str | None, int]) -> None:
        """Load the workflows of ``target`` (index and matcher), then serve them."""
        workflows: Workflows | None = None
        try:
            workflows = self.application.workflows()
            _ = workflows.index, workflows.matcher
        except Exception:  # e.g. the version vanished: load on demand instead
            logger.exception("loading index version %s in the background failed", target)
            workflows = None
        with self._lock:
            self._workflows = workflows
            self._versions = target
            self._loading = None
            self._drop_cached()

    @property
    def workflows(self) -> Workflows:
        """The workflows over the serving index (rebuilt when its version changes)."""
        self.versions()
        with self._lock:
            if self._workflows is None:
                self._workflows = self.application.workflows()
            return self._workflows

    # -- matches ----------------------------------------------------------------------------
    def match_need(self, need: Need, k: int) -> dict[str, Any]:
        """``Workflows.match_need`` for ``need``, cached (unmasked; callers mask).

        Args:
            need: the need or challenge record (its content is part of the key).
            k: how many matches.

        Returns:
            The workflow's JSON-ready result (shared: do not mutate).
        """
        digest = hashlib.sha256(need.model_dump_json().encode("utf-8")).hexdigest()[:16]
        index, ranker = self.versions()
        key = f"{index}|{ranker}|{need.id}|{digest}|{k}"
        found = self._cache.get_raw(key)
        if found is not None:
            result, raw = found
            if raw is not None:
                self._encoded.put(id(result), (result, raw))
            with self._lock:
                self.hits += 1
            return result
        result = self.workflows.match_need(need.id, k=k)
        self._cache.put(key, result)
        with self._lock:
            self.misses += 1
        return result

    def warm(self, k: int = 20) -> int:
        """Precompute the matches of every open need into the cache (run in the background).

        A cache miss costs a full retrieval and re-ranking (≈ 50–130 ms at 114,000 talents
        on 2 cores, the more when they are shared); warming after start-up makes the first reviewer's request as fast
        as later ones.

        Args:
            k: the ``k`` to cache (the API's default).

        Returns:
            The number of needs warmed.
        """
        if self.shared.shared and not self.shared.claim(f"warm:{self.versions()}", 600.0):
            return 0  # another worker warms the shared cache of this version
        done = 0
        for need in self.workflows.open_needs()[:CACHE_SIZE]:
            self.match_need(need, k)
            done += 1
        return done

    def encoded(self, result: dict[str, Any]) -> bytes:
        """The JSON bytes of a cached result (encoded once per cached object).

        Args:
            result: a result returned by :meth:`match_need`.

        Returns:
            UTF-8 JSON.
        """
        key = id(result)
        found = self._encoded.get(key)
        if found is not None and found[0] is result:
            return found[1]
        encoded = json.dumps(result, ensure_ascii=False, separators=(",", ":")).encode()
        self._encoded.put(key, (result, encoded))
        return encoded

    def clear_cache(self) -> None:
        """Forget cached matches (after a write that changes what matches), on every
        worker at once."""
        self._cache.clear()
        self._encoded.clear()

    # -- accounts ---------------------------------------------------------------------------
    def _cached_user(self, key: str, load: Callable[[], User | None]) -> User | None:
        hit = self._users.get_raw(key)
        if hit is not None:
            return hit[0]
        user = load()
        if user is not None and user.disabled:
            user = None
        self._users.put(key, user)
        return user

    def user_by_token(self, digest: str) -> User | None:
        """The enabled account owning the token hash (cached a few seconds)."""
        return self._cached_user("t:" + digest,
                                 lambda: self.application.store.user_by_token(digest))

    def user_by_id(self, user_id: str) -> User | None:
        """The enabled account ``user_id`` (cached a few seconds)."""
        return self._cached_user("u:" + user_id,
                                 lambda: self.application.store.get_user_by_id(user_id))

    def forget_users(self) -> None:
        """Drop cached account lookups (after disabling an account, a logout …), on every
        worker at once."""
        self._users.clear()

    def cached_users(self) -> int:
        """How many account lookups are cached (bounded by :data:`USER_CACHE_SIZE`)."""
        return len(self._users)
