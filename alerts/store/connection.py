"""Opening the incident store's database (SQLite or PostgreSQL) and its transactions."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any, Final, Self

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.pool import StaticPool

from stormwatch.alerts.exceptions import StoreError, StoreUrlError
from stormwatch.alerts.store.schema import migrate

SQLITE_BUSY_TIMEOUT_S: Final = 10.0
PG_CONNECT_TIMEOUT_S: Final = 10
_WRITE: Final = "stormwatch_write"  # execution option: SQLite write txn = BEGIN IMMEDIATE


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS).decode()


def _parse_url(url: str | Path) -> sa.URL:
    text = str(url)
    if not text:
        raise StoreUrlError("empty incident store URL: give a file path, sqlite:///PATH or a URL")
    if isinstance(url, Path) or "://" not in text:
        return sa.URL.create("sqlite", database=str(Path(text).expanduser()))
    try:
        parsed = sa.make_url(text)
    except (ArgumentError, ValueError):
        # Not echoing the text: it may hold a password.
        raise StoreUrlError(
            "invalid incident store URL: expected a file path, sqlite:///PATH, "
            "sqlite:///:memory: or postgresql+psycopg://USER@HOST:PORT/DB"
        ) from None
    if parsed.drivername in ("postgres", "postgresql"):  # plain URLs default to psycopg2
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername not in ("sqlite", "sqlite+pysqlite", "postgresql+psycopg"):
        raise StoreUrlError(
            f"unsupported incident store database {parsed.drivername!r} in "
            f"{parsed.render_as_string(hide_password=True)}: use SQLite (a file path or "
            "sqlite:///PATH) or PostgreSQL (postgresql+psycopg://...)"
        )
    return parsed


def _is_memory(url: sa.URL) -> bool:
    return url.get_backend_name() == "sqlite" and (
        url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"
    )


def _create_engine(url: sa.URL) -> Engine:
    json = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads}
    if url.get_backend_name() == "postgresql":
        connect_args = (
            {} if "connect_timeout" in url.query else {"connect_timeout": PG_CONNECT_TIMEOUT_S}
        )
        return sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args, **json)
    if _is_memory(url):
        # One connection shared by all threads; IncidentStore serialises access to it.
        engine = sa.create_engine(
            url, poolclass=StaticPool, connect_args={"check_same_thread": False}, **json
        )
    else:
        engine = sa.create_engine(url, **json)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The sqlite3 module's own transaction handling skips BEGIN before DDL and SELECT;
        # take it over (see `_on_begin`) so migrations and claims are real transactions.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
            cursor.execute("PRAGMA journal_mode = WAL")  # readers don't block the writer
            # A commit survives a crash of the process, not a power loss (the last commits
            # may roll back, the file stays sound): an fsync per commit made each one cost
            # ~8 ms, and button presses queued behind the write lock for seconds.
            cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A write transaction takes the write lock up front: a deferred one that reads
        # first and then writes fails with SQLITE_BUSY instead of waiting.
        write = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _reason(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip()
    return text.splitlines()[0] if text else type(orig).__name__


class StoreBase:
    """The database an incident store runs on: engine, clock and transactions."""

    def __init__(self, engine: Engine, *, clock: Callable[[], float] = time.time) -> None:
        """Wrap an engine whose schema is already current; `open()` is the usual way in."""
        self._engine = engine
        self._clock = clock
        self._postgres = engine.dialect.name == "postgresql"
        self._insert = pg_dialect.insert if self._postgres else sqlite_dialect.insert
        self._serial: AbstractContextManager[Any] = (
            threading.RLock() if _is_memory(engine.url) else nullcontext()
        )
        # SQLite has one writer at a time, and a writer that finds the lock taken polls
        # for it with growing sleeps (up to 100 ms each): threads of this process queue
        # here for it instead, woken as soon as it is free (a long tail of seconds before).
        self._writer: AbstractContextManager[Any] = (
            threading.RLock() if not self._postgres else nullcontext()
        )

    @classmethod
    def open(cls, url: str | Path, *, clock: Callable[[], float] = time.time) -> Self:
        """Connect to `url` (a file path, `sqlite:///...`, `postgresql+psycopg://...`) and
        create or migrate the schema to the latest version in one transaction."""
        parsed = _parse_url(url)
        where = parsed.render_as_string(hide_password=True)
        try:
            engine = _create_engine(parsed)
        except (ArgumentError, NoSuchModuleError, ImportError) as exc:
            if parsed.get_backend_name() == "postgresql" and isinstance(exc, ImportError):
                raise StoreUrlError(
                    f"cannot open incident store {where}: the PostgreSQL driver psycopg is "
                    "not installed: pip install 'stormwatch[postgres]'"
                ) from exc
            raise StoreUrlError(f"cannot open incident store {where}: {_reason(exc)}") from exc
        store = cls(engine, clock=clock)
        try:
            with store._transaction(write=True) as conn:
                migrate(conn)
        except BaseException:
            engine.dispose()
            raise
        return store

    @property
    def url(self) -> str:
        """The database URL, password hidden."""
        return self._engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self, *, write: bool = False) -> Iterator[Connection]:
        with self._serial, self._writer if write else nullcontext():
            try:
                with self._engine.connect() as conn:
                    if write:
                        conn.execution_options(**{_WRITE: True})
                    with conn.begin():
                        yield conn
            except DBAPIError as exc:
                raise StoreError(f"incident store {self.url}: {_reason(exc)}") from exc
