"""The machine's PostgreSQL for integration tests: a fresh database per test.

The server listens on 127.0.0.1:5432 with trust auth (see the README, Tests). Each database is
`stormwatch_test_<random>`, created through a maintenance database (`postgres`, else
`test`) and dropped afterwards (`WITH (FORCE)`: a worker killed mid-test may still hold a
connection). An unreachable server skips the test, which `STORMWATCH_REQUIRE_SERVICES=1`
(set by `.ci/run`) turns into an error; a server that refuses us fails the test.
"""

from __future__ import annotations

import functools
import getpass
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
import sqlalchemy as sa

PG_HOST, PG_PORT = "127.0.0.1", 5432
MAINTENANCE_DATABASES = ("postgres", "test")


@functools.cache
def admin_conninfo() -> tuple[str, str]:
    """(maintenance conninfo, "") or ("", why not): probed once per session."""
    try:
        socket.create_connection((PG_HOST, PG_PORT), timeout=1).close()
    except OSError as exc:
        return "", f"PostgreSQL is not reachable at {PG_HOST}:{PG_PORT}: {exc}"
    errors = []
    for user in dict.fromkeys(("postgres", getpass.getuser())):
        for dbname in MAINTENANCE_DATABASES:
            conninfo = f"postgresql://{user}@{PG_HOST}:{PG_PORT}/{dbname}"
            try:
                psycopg.connect(conninfo, connect_timeout=3).close()
            except psycopg.Error as exc:
                errors.append(f"{user}@{dbname}: {exc}")
                continue
            return conninfo, ""
    return "", f"PostgreSQL at {PG_HOST}:{PG_PORT} is up but refuses us: {errors}"


def drop_database(url: str) -> None:
    """Drop the database of `url` now, connections and all (a store going away)."""
    admin, problem = admin_conninfo()
    assert admin, problem
    name = sa.make_url(url).database
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_pg_database() -> Iterator[str]:
    """A new, empty database on the local server, dropped afterwards; yields its
    SQLAlchemy URL (`postgresql+psycopg://...`)."""
    admin, problem = admin_conninfo()
    if not admin:
        # Unreachable: skip (an error under STORMWATCH_REQUIRE_SERVICES=1). Reachable
        # but refusing us: that is a broken setup, fail.
        (pytest.skip if "not reachable" in problem else pytest.fail)(problem)
    name = f"stormwatch_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = sa.make_url(admin).set(drivername="postgresql+psycopg", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        drop_database(url.render_as_string(hide_password=False))


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test."""
    with fresh_pg_database() as url:
        yield url
