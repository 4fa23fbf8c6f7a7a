"""Run the store's Alembic migrations programmatically (no alembic.ini needed).

The command line works too, from the repository root::

    alembic -c data/store/alembic.ini -x url=sqlite:///var/talentmatch.db upgrade head
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at the bundled migrations.

    Args:
        connection: an open connection the migrations run on (optional).

    Returns:
        The config; ``attributes["connection"]`` carries ``connection``.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    """The newest revision shipped with the code.

    Returns:
        The head revision id (``None`` only if no migration exists).
    """
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at.

    Args:
        connection: an open connection.

    Returns:
        The revision id, or ``None`` for a database never migrated.
    """
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Migrate the database up to ``revision``; already-applied revisions are skipped.

    Args:
        connection: an open connection; the caller commits.
        revision: target revision, ``head`` by default.
    """
    command.upgrade(alembic_config(connection), revision)


def downgrade(connection: Connection, revision: str) -> None:
    """Migrate the database down to ``revision`` (``base`` drops every table).

    Args:
        connection: an open connection; the caller commits.
        revision: target revision.
    """
    command.downgrade(alembic_config(connection), revision)
