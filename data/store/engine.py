"""Engine creation: one URL switches storage between SQLite (default) and PostgreSQL.

* ``sqlite:///path/to/file.db`` — parent folders are created; WAL journal, foreign keys and
  a busy timeout are set on every connection; transactions are real (``BEGIN`` is emitted by
  the store, ``BEGIN IMMEDIATE`` for writes so concurrent writers queue instead of failing).
* ``sqlite://`` — a private in-memory database (one shared connection), for quick tests.
* ``postgresql://…`` (or ``postgres://…``) — rewritten to ``postgresql+psycopg://`` (psycopg 3).
  libpq options can ride in the query string, e.g. ``?options=-csearch_path%3Dmyschema``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool

WRITE_OPTION = "talentmatch_write"
"""Execution option marking a connection that will write (SQLite: ``BEGIN IMMEDIATE``)."""

SQLITE_BUSY_TIMEOUT_S = 30.0


def json_dumps(value: Any) -> str:
    """Serialise JSON columns compactly, keeping Chinese characters readable.

    Args:
        value: a JSON-compatible value.

    Returns:
        The JSON text.
    """
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def normalise_url(url: str | URL) -> URL:
    """Parse a database URL and pick the driver the store uses.

    Args:
        url: ``sqlite:///path``, ``sqlite://``, ``postgresql://…`` or ``postgres://…``.

    Returns:
        The SQLAlchemy URL (PostgreSQL URLs use ``postgresql+psycopg``).

    Raises:
        ValueError: for any other kind of database.
    """
    text = url if isinstance(url, str) else url.render_as_string(hide_password=False)
    if text.startswith("postgres://"):
        text = "postgresql://" + text[len("postgres://") :]
    parsed = make_url(text)
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        return parsed.set(drivername="sqlite")
    raise ValueError(
        f"不支持的数据库地址 (unsupported database URL) {parsed.drivername!r}: "
        "use sqlite:///path or postgresql://user@host:port/db"
    )


def create_store_engine(url: str | URL) -> Engine:
    """Create the engine for ``url`` with the store's connection settings.

    Args:
        url: a database URL, see :func:`normalise_url`.

    Returns:
        A configured SQLAlchemy engine.
    """
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    return create_engine(parsed, json_serializer=json_dumps, pool_pre_ping=True)


def is_memory_sqlite(url: URL) -> bool:
    """True for ``sqlite://`` and ``sqlite:///:memory:``."""
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def _sqlite_engine(url: URL) -> Engine:
    """SQLite engine: file (WAL) or in-memory (one shared connection)."""
    connect_args: dict[str, Any] = {"timeout": SQLITE_BUSY_TIMEOUT_S}
    if is_memory_sqlite(url):
        connect_args["check_same_thread"] = False
        engine = create_engine(
            url, json_serializer=json_dumps, connect_args=connect_args, poolclass=StaticPool
        )
    else:
        Path(str(url.database)).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, json_serializer=json_dumps, connect_args=connect_args)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    """Per connection: WAL journal, foreign keys, and let the store emit BEGIN itself."""
    dbapi_connection.isolation_level = None  # no implicit BEGIN by the sqlite3 module
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
    finally:
        cursor.close()


def _sqlite_on_begin(conn: Any) -> None:
    """Emit BEGIN (IMMEDIATE for writing connections, so writers wait for each other)."""
    write = conn.get_execution_options().get(WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
