"""Alembic environment of the store. Run programmatically (see ``data/store/migrate.py``):
the caller hands an open connection in ``config.attributes["connection"]``; with the
``alembic`` command line, ``sqlalchemy.url`` from the ini file is used instead."""

from __future__ import annotations

from alembic import context

from data.store.engine import create_store_engine
from data.store.tables import metadata

config = context.config


def _run(connection: object) -> None:
    """Configure the context on ``connection`` and run the pending migrations."""
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=metadata,
        render_as_batch=True,  # SQLite needs batch mode for ALTER TABLE
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run on the caller's connection, or on one opened from the ini file's URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url")
    engine = create_store_engine(url or config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run them against a database")
run_migrations_online()
