"""Alembic migrations of the store (run them with :func:`data.store.migrate.upgrade`)."""
