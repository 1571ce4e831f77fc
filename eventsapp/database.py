"""The database handle, the declarative base and the column types every model uses."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from flask import has_request_context, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


def utcnow() -> datetime:
    """The current time as an aware UTC value (the only kind the models accept)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always stored and returned as aware UTC.

    Naive values are refused: a naive datetime is a bug waiting for the next DST switch.
    SQLite keeps no offset, so values read back from it are marked UTC again.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r} given; use an aware value")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def copy(self, **kw: Any) -> UTCDateTime:
        return UTCDateTime()


# In `Session.info`: this transaction wrote something (the page cache is cleared at commit).
WROTE = "eventsapp.wrote"


def core_connection(*, writes: bool) -> Connection:
    """The session's connection, in its transaction, for prebuilt Core statements.

    For the few statements every registration runs: `db.session.execute` does ORM work for
    each statement (events, compile state, bind lookup) that costs more than the statement
    itself on SQLite (docs/performance.md). There is no autoflush here: flush pending ORM
    changes first where they matter. `writes` marks the session as written, as a flush
    does, so that the page cache is cleared when it commits.
    """
    session = db.session()
    if writes:
        session.info[WROTE] = True
    return session.connection()


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


_reading: ContextVar[bool] = ContextVar("eventsapp_reading", default=False)


@contextmanager
def reading() -> Iterator[None]:
    """Transactions begun inside only read: on SQLite they take no write lock (the worker
    rendering mail while the web processes register people). End them before leaving."""
    token = _reading.set(True)
    try:
        yield
    finally:
        _reading.reset(token)


def finish_reading() -> None:
    """End a transaction begun inside `reading()` before writing: on SQLite the writes must
    begin a new one, which takes the write lock. On PostgreSQL the transaction goes on (its
    row locks are taken where they are needed), so no round trip is spent."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.rollback()


def _wants_write_lock() -> bool:
    # Requests that change data, and everything outside a request (CLI, worker, tests of
    # services), take SQLite's write lock when their transaction begins.
    if _reading.get():
        return False
    return not has_request_context() or request.method not in SAFE_METHODS


def configure_sqlite(engine: Engine) -> None:
    """Make SQLite behave for concurrent writers.

    pysqlite opens transactions lazily and SQLite cannot upgrade a read transaction to a
    write one while another writer is active: it fails at once with "database is locked"
    instead of waiting. So transactions that may write start with BEGIN IMMEDIATE, which
    waits (busy timeout) for the write lock and then holds it until commit. That is what
    serialises seat allocation on SQLite, where SELECT ... FOR UPDATE does nothing.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _wants_write_lock() else "BEGIN")
