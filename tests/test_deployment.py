"""A real deployment (issue #14, acceptance): API worker processes and a job worker on the
machine's PostgreSQL and Redis.

Started here: ``talentmatch serve --workers 2`` (port A, two uvicorn worker processes),
``talentmatch serve`` (port B, a third API process) and ``talentmatch worker`` (RQ), all
with ``TALENTMATCH_REDIS_URL`` and a private Redis key prefix and PostgreSQL schema. The
test checks that a decision made on one worker holds on the others at once — a logout
revokes the session everywhere, failed logins count together, a deleted talent leaves
every worker's cached matches — and that a job whose worker is killed (kill -9, while its
result transaction is open) ends failed with nothing half-applied, after which a new worker
runs the next job to completion.

PostgreSQL and Redis are required here: unreachable, the test skips, or fails under
``TALENTMATCH_REQUIRE_POSTGRES=1`` / ``TALENTMATCH_REQUIRE_REDIS=1`` (``make test``, CI).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from api.application import Application
from api.service.auth import create_user
from api.service.serving import free_port
from api.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct-horse-battery"
HEARTBEAT_S = 5.0

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def _until(check: Callable[[], Any], timeout: float, what: str, every: float = 0.2) -> Any:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(every)


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (from /proc), children first."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    out: list[int] = []
    todo = [pid]
    while todo:
        current = todo.pop()
        kids = [p for p, parent in parents.items() if parent == current]
        out.extend(kids)
        todo.extend(kids)
    return out


class Deployment:
    """The processes of one deployment, started from this worktree's code."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = (self.log_dir / f"{name}.log").open("ab")
        proc = subprocess.Popen([sys.executable, "-m", "api.cli", *args], cwd=ROOT,
                                env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.procs.append(proc)
        return proc

    def serve(self, name: str, port: int, workers: int) -> str:
        proc = self.start(name, "serve", "--port", str(port), "--workers", str(workers),
                          "--no-warm")
        base = f"http://127.0.0.1:{port}"

        def up() -> bool:
            if proc.poll() is not None:
                pytest.fail(f"{name} exited: {self.log(name)}")
            try:
                return httpx.get(base + "/healthz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        _until(up, 120, f"{name} to answer")
        return base

    def log(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text(errors="replace")[-3000:]

    @staticmethod
    def kill(proc: subprocess.Popen[bytes]) -> None:
        """kill -9 the process and everything below it (RQ's job process has its own
        session, so a process-group kill would miss it)."""
        for pid in [*_descendants(proc.pid), proc.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=30)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                for pid in _descendants(proc.pid):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGTERM)
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill(proc)


@pytest.fixture
def deployment(prepared_template: Path, postgres_schema_url: str,
               redis_url: tuple[str, str], tmp_path: Path
               ) -> Iterator[tuple[Deployment, Application, str]]:
    """The prepared sample on a private PostgreSQL schema, its index, and an admin token."""
    url, prefix = redis_url
    env_dir = tmp_path / "env"
    env_dir.mkdir()
    import shutil

    shutil.copytree(prepared_template / "index", env_dir / "index")
    settings = Settings(database_url=postgres_schema_url, index_dir=env_dir / "index",
                        redis_url=url, redis_prefix=prefix)
    application = Application(settings)
    for entity, path in application.sample_files(prepared_template / "sample"):
        application.import_file(entity, path, progress=False)
    _, token = create_user(application.store, "ops", "admin", password=PASSWORD)
    create_user(application.store, "alice", "reviewer", password=PASSWORD,
                work_group="tech_return")
    create_user(application.store, "bob", "reviewer", password=PASSWORD,
                work_group="tech_return")
    env = {**os.environ, "TALENTMATCH_DATABASE_URL": postgres_schema_url,
           "TALENTMATCH_INDEX_DIR": str(env_dir / "index"),
           "TALENTMATCH_DATA_DIR": str(env_dir), "TALENTMATCH_REDIS_URL": url,
           "TALENTMATCH_REDIS_PREFIX": prefix,
           "TALENTMATCH_SECRET_KEY": secrets.token_urlsafe(40),
           "TALENTMATCH_JOB_HEARTBEAT_S": str(HEARTBEAT_S)}
    logs = tmp_path / "logs"
    logs.mkdir()
    running = Deployment(env, logs)
    try:
        yield running, application, token
    finally:
        running.stop()
        application.store.close()


def _login(client: httpx.Client, base: str, username: str, password: str) -> httpx.Response:
    page = client.get(base + "/login")
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text[:500]
    return client.post(base + "/login", data={"username": username, "password": password,
                                              "csrf": found.group(1)}, follow_redirects=False)


def _job(base: str, token: str, job_id: str) -> dict[str, Any]:
    r = httpx.get(f"{base}/api/v1/jobs/{job_id}", headers={"Authorization": f"Bearer {token}"},
                  timeout=30)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def test_workers_share_sessions_throttling_caches_and_jobs_survive_a_killed_worker(
        deployment: tuple[Deployment, Application, str]) -> None:
    running, application, token = deployment
    auth = {"Authorization": f"Bearer {token}"}
    a = running.serve("api-a", free_port(), 2)
    b = running.serve("api-b", free_port(), 1)
    worker = running.start("worker-1", "worker")

    # -- a logout on one worker revokes the session on the others at once -----------------
    with httpx.Client(timeout=30) as client:
        r = _login(client, a, "alice", PASSWORD)
        assert r.status_code == 303, r.text[:300]
        for base in (b, a, b):  # B caches the account lookup
            me = client.get(base + "/api/v1/me")
            assert me.status_code == 200 and me.json()["username"] == "alice"
        cookie = dict(client.cookies)
        csrf = re.search(r'name="csrf" value="([^"]+)"', client.get(a + "/review").text)
        assert csrf, "the review page carries the session's CSRF token"
        out = client.post(a + "/logout", data={"csrf": csrf.group(1)}, follow_redirects=False)
        assert out.status_code == 303
    for base in (b, a, b, a):
        again = httpx.get(base + "/api/v1/me", cookies=cookie, timeout=30)
        assert again.status_code == 401, f"{base}: the revoked session still works"

    # -- failed logins count across workers ------------------------------------------------
    limit = Settings().login_max_failures
    with httpx.Client(timeout=30) as client:
        for n in range(limit):
            r = _login(client, (a, b)[n % 2], "bob", "wrong-password")
            assert r.status_code == 200, f"attempt {n + 1} refused too early"
        for base in (b, a):
            refused = _login(client, base, "bob", PASSWORD)
            assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0

    # -- cached matches: shared, and dropped everywhere by a write on one worker ----------
    need_id = str(next(iter(application.store.iter("needs"))).model_dump()["id"])
    first = httpx.get(f"{a}/api/v1/needs/{need_id}/matches", params={"k": 5}, headers=auth,
                      timeout=120)
    assert first.status_code == 200 and first.json()["matches"], first.text[:300]
    top = first.json()["matches"][0]["talent_id"]
    seen = httpx.get(f"{b}/api/v1/needs/{need_id}/matches", params={"k": 5}, headers=auth,
                     timeout=120).json()
    assert seen == first.json(), "the second worker serves the same (shared) result"
    prefix = running.env["TALENTMATCH_REDIS_PREFIX"]
    import redis

    client_r = redis.Redis.from_url(running.env["TALENTMATCH_REDIS_URL"])
    assert list(client_r.scan_iter(match=f"{prefix}match:*", count=500)), \
        "matches are cached in Redis"
    assert httpx.delete(f"{b}/api/v1/talents/{top}", headers=auth,
                        timeout=30).status_code == 204
    for base in (a, b, a):
        after = httpx.get(f"{base}/api/v1/needs/{need_id}/matches", params={"k": 5},
                          headers=auth, timeout=120).json()
        assert top not in [m["talent_id"] for m in after["matches"]], \
            f"{base} still serves a cached match of the deleted talent"

    # -- a job whose worker is killed mid-write ends failed, nothing half-applied --------
    engine = sa.create_engine(application.settings.database_url)
    try:
        with engine.connect() as conn:
            runs_before = conn.execute(sa.text("SELECT count(*) FROM runs")).scalar_one()
        with engine.connect() as lock:
            tx = lock.begin()
            lock.execute(sa.text("LOCK TABLE suggestions IN EXCLUSIVE MODE"))
            r = httpx.post(f"{a}/api/v1/pairing-runs", json={"k": 5}, headers=auth, timeout=30)
            assert r.status_code == 202, r.text
            job_id = r.json()["id"]
            _until(lambda: _job(b, token, job_id)["status"] == "running", 120,
                   "the job worker to start the pairing run")

            def blocked() -> bool:
                with engine.connect() as c:
                    return bool(c.execute(sa.text(
                        "SELECT count(*) FROM pg_locks l JOIN pg_class t ON t.oid = l.relation "
                        "WHERE NOT l.granted AND t.relname = 'suggestions'")).scalar_one())

            _until(blocked, 180, "the job to write its run (blocked on the table lock)")
            running.kill(worker)
            tx.rollback()
        failed = _until(lambda: (j := _job(b, token, job_id))["status"] != "running" and j,
                        60, "the killed job to be marked failed")
        assert failed["status"] == "failed" and "退出" in (failed["error"] or ""), failed
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM runs")).scalar_one() == \
                runs_before, "the killed job left a run behind"
            assert not conn.execute(sa.text(
                "SELECT count(*) FROM suggestions s LEFT JOIN runs r ON r.id = s.run_id "
                "WHERE s.run_id IS NOT NULL AND r.id IS NULL")).scalar_one()

        # -- a new worker runs the next job to completion ----------------------------------
        running.start("worker-2", "worker")
        r = httpx.post(f"{b}/api/v1/pairing-runs", json={"k": 5}, headers=auth, timeout=30)
        assert r.status_code == 202, r.text
        done = _until(lambda: (j := _job(a, token, r.json()["id"]))["status"]
                      not in ("queued", "running") and j, 240, "the second pairing run")
        assert done["status"] == "succeeded", (
            f"error: {done.get('error')!r}; message: {done.get('message')!r}\n"
            f"worker-2: {running.log('worker-2')}\napi-a: {running.log('api-a')}\n"
            f"api-b: {running.log('api-b')}")
        run_id = done["result"]["run_id"]
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM runs")).scalar_one() == \
                runs_before + 1
            stored = conn.execute(sa.text("SELECT count(*) FROM suggestions WHERE run_id = :r"),
                                  {"r": run_id}).scalar_one()
        assert stored == done["result"]["stored"]["added"] > 0
    finally:
        engine.dispose()
        client_r.close()
