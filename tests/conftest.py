"""Shared fixtures. ``store`` runs each test against SQLite and PostgreSQL.

``prepared_template`` builds the prepared service environment (sample data, index, a pairing
run: :func:`api.service.demo.prepare`) once per test session; the API, authz, browser and
concurrency tests get copies of it (the browser tests' ``server`` and ``browser`` fixtures live in
``tests/browser_support.py``) — ``prepared`` one per module, ``prepared_fresh`` one per
test for tests that must not see other tests' writes.

PostgreSQL comes from ``TALENTMATCH_TEST_POSTGRES_URL`` (default
``postgresql://root@127.0.0.1:5432/test``); each test gets its own schema (dropped after),
selected through libpq's ``options=-csearch_path=…``. When the server cannot be reached the
PostgreSQL tests skip, or fail when ``TALENTMATCH_REQUIRE_POSTGRES=1`` (as in CI).

Redis comes from ``TALENTMATCH_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/3``);
``redis_url`` gives each test a private key prefix (its keys are deleted after; never a
FLUSH). Unreachable: the Redis tests skip, or fail under ``TALENTMATCH_REQUIRE_REDIS=1``
(``make test`` and CI).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL

from api.application import Application
from api.settings import Settings
from data.store import Store
from data.store.engine import normalise_url

pytest_plugins = ["tests.browser_support"]  # the browser tests' server and browser fixtures

PG_URL_ENV = "TALENTMATCH_TEST_POSTGRES_URL"
PG_REQUIRE_ENV = "TALENTMATCH_REQUIRE_POSTGRES"
DEFAULT_PG_URL = "postgresql://root@127.0.0.1:5432/test"
REDIS_URL_ENV = "TALENTMATCH_TEST_REDIS_URL"
REDIS_REQUIRE_ENV = "TALENTMATCH_REQUIRE_REDIS"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/3"

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def postgres_url() -> URL:
    """The PostgreSQL test server URL (psycopg driver)."""
    return normalise_url(os.environ.get(PG_URL_ENV) or DEFAULT_PG_URL)


@cache
def postgres_problem() -> str | None:
    """Why the PostgreSQL test server cannot be used, or ``None`` when it can (checked once)."""
    engine = sa.create_engine(postgres_url(), connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0]}"
    finally:
        engine.dispose()
    return None


def require_postgres() -> URL:
    """The server URL; skip (or fail, under TALENTMATCH_REQUIRE_POSTGRES=1) when unreachable."""
    problem = postgres_problem()
    if problem is None:
        return postgres_url()
    shown = postgres_url().render_as_string(hide_password=True)
    message = (
        f"!!! PostgreSQL at {shown} is unreachable — PostgreSQL tests NOT run. "
        f"Set {PG_URL_ENV} to a reachable server. ({problem})"
    )
    if os.environ.get(PG_REQUIRE_ENV) == "1":
        pytest.fail(f"{message} [{PG_REQUIRE_ENV}=1]", pytrace=False)
    pytest.skip(message)


@cache
def redis_problem() -> str | None:
    """Why the Redis test server cannot be used, or ``None`` when it can (checked once)."""
    try:
        import redis

        client = redis.Redis.from_url(os.environ.get(REDIS_URL_ENV) or DEFAULT_REDIS_URL,
                                      socket_connect_timeout=3, socket_timeout=3)
        client.ping()
        client.close()
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc) else ''}"
    return None


@pytest.fixture
def redis_url() -> Iterator[tuple[str, str]]:
    """(Redis URL, a private key prefix); the prefix's keys are deleted after the test.

    Skips when Redis is unreachable, or fails under ``TALENTMATCH_REQUIRE_REDIS=1``.
    """
    url = os.environ.get(REDIS_URL_ENV) or DEFAULT_REDIS_URL
    problem = redis_problem()
    if problem is not None:
        message = (f"!!! Redis at {url} is unreachable — Redis tests NOT run. "
                   f"Set {REDIS_URL_ENV} to a reachable server. ({problem})")
        if os.environ.get(REDIS_REQUIRE_ENV) == "1":
            pytest.fail(f"{message} [{REDIS_REQUIRE_ENV}=1]", pytrace=False)
        pytest.skip(message)
    import redis

    prefix = f"tmtest{uuid.uuid4().hex[:10]}:"
    try:
        yield url, prefix
    finally:
        client = redis.Redis.from_url(url)
        queue = prefix.replace(":", "-") + "jobs"
        for pattern in (f"{prefix}*", f"rq:queue:{queue}*"):
            keys = list(client.scan_iter(match=pattern, count=500))
            if keys:
                client.delete(*keys)
        client.close()


@pytest.fixture
def postgres_schema_url() -> Iterator[str]:
    """A URL whose connections use a fresh, private schema (dropped after the test)."""
    server = require_postgres()
    schema = f"tm_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = server.update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL per backend: a SQLite file under ``tmp_path`` or a private PG schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db' / 'store.db'}"
    return str(request.getfixturevalue("postgres_schema_url"))


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """An open, migrated, empty store on each backend."""
    opened = Store.open(store_url)
    try:
        yield opened
    finally:
        opened.close()


PREPARED_SIZE = {"talents": 120, "needs": 30}
"""The sample the prepared environment holds (small: the whole suite shares it)."""


@pytest.fixture(scope="session")
def prepared_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder of the prepared environment, built once (never served: tests use copies)."""
    from api.service.demo import prepare

    root = tmp_path_factory.mktemp("prepared")
    application = prepare(root, **PREPARED_SIZE)
    application.store.close()  # checkpoints the SQLite WAL: the folder is complete on disk
    return root


def copy_prepared(template: Path, target: Path) -> Application:
    """A private copy of the prepared environment at ``target``, and the application over it."""
    shutil.copytree(template, target, ignore=shutil.ignore_patterns("sample"))
    return Application(Settings(database_url=f"sqlite:///{target / 'tm.db'}",
                                index_dir=target / "index"))


@pytest.fixture(scope="module")
def prepared(prepared_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Application:
    """The prepared environment, a copy per test module (the module's tests share it)."""
    return copy_prepared(prepared_template, tmp_path_factory.mktemp("module") / "env")


@pytest.fixture
def prepared_fresh(prepared_template: Path, tmp_path: Path) -> Application:
    """The prepared environment, a copy for this test alone."""
    return copy_prepared(prepared_template, tmp_path / "env")
