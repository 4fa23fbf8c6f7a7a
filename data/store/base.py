"""What every part of the store shares: an engine and its read and write transactions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Self

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from data.store.engine import WRITE_OPTION
from data.store.errors import ConstraintError


class Connected:
    """A part of the store over one engine; every public method is one transaction.

    The parts (:class:`~data.store.record_store.RecordStore`,
    :class:`~data.store.review_store.ReviewStore`, …) can share one engine; the
    :class:`~data.store.store.Store` composes them.
    """

    def __init__(self, engine: Engine) -> None:
        """Wrap ``engine`` (see :func:`data.store.engine.create_store_engine`)."""
        self.engine = engine

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        url = self.engine.url.render_as_string(hide_password=True)
        return f"{type(self).__name__}({url!r})"

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A connection in a write transaction; DB constraint failures become ConstraintError."""
        try:
            with self.engine.connect() as conn:
                conn.execution_options(**{WRITE_OPTION: True})
                with conn.begin():
                    yield conn
        except IntegrityError as exc:
            detail = str(exc.orig).splitlines()[0][:300]
            raise ConstraintError(f"数据库拒绝写入 (constraint failed): {detail}") from exc

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """A connection in a read transaction."""
        with self.engine.connect() as conn, conn.begin():
            yield conn
