"""Pooled connections are checked at checkout by their socket, not by a ping
(``page_tracker.connection_check``): a connection in use is not pinged, one the server
closed is replaced, one idle long is pinged. Real MariaDB and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text

from page_tracker import connection_check
from page_tracker.db import make_engine

# A server database only: SQLite has no connection to lose.
pytestmark = pytest.mark.parametrize("database_url", ["mariadb", "postgresql"], indirect=True)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    found = make_engine(database_url, pool_size=2)
    yield found
    found.dispose()


@pytest.fixture
def pings(engine: Engine) -> list[int]:
    """One entry per ping the engine's dialect sends."""
    sent: list[int] = []
    dialect: Any = engine.dialect
    ping = dialect.do_ping

    def counted(connection: Any) -> bool:
        sent.append(1)
        return bool(ping(connection))

    dialect.do_ping = counted
    return sent


def _backend(engine: Engine) -> int:
    """The server's id of the connection a checkout gives."""
    mysql = engine.dialect.name == "mysql"
    with engine.connect() as connection:
        found = connection.scalar(
            text("SELECT CONNECTION_ID()" if mysql else "SELECT pg_backend_pid()")
        )
    return int(found)


def _close_from_the_server(engine: Engine, backend: int) -> None:
    """End connection ``backend`` as a server restart would, and wait until it is gone."""
    mysql = engine.dialect.name == "mysql"
    admin = make_engine(engine.url.render_as_string(hide_password=False), pool_size=1)
    alive = (
        "SELECT COUNT(*) FROM information_schema.processlist WHERE id = :b"
        if mysql
        else "SELECT COUNT(*) FROM pg_stat_activity WHERE pid = :b"
    )
    try:
        with admin.connect() as connection:
            if mysql:
                connection.execute(text(f"KILL CONNECTION {backend}"))
            else:
                connection.execute(text("SELECT pg_terminate_backend(:b)"), {"b": backend})
            for _ in range(100):
                if not connection.scalar(text(alive), {"b": backend}):
                    break
                time.sleep(0.05)
    finally:
        admin.dispose()


def test_should_not_ping_a_connection_used_a_moment_ago(engine: Engine, pings: list[int]) -> None:
    first = _backend(engine)
    # When the pooled connection is taken again and again
    for _ in range(5):
        assert _backend(engine) == first
    # Then it was never pinged
    assert pings == []


def test_should_replace_a_connection_the_server_closed(engine: Engine, pings: list[int]) -> None:
    # Given a pooled connection the server then closed
    first = _backend(engine)
    _close_from_the_server(engine, first)
    # When it is taken from the pool
    second = _backend(engine)
    # Then a new connection answers in its place, found without a ping
    assert second != first
    assert pings == []


def test_should_ping_a_connection_idle_for_long(
    engine: Engine, pings: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    _backend(engine)
    monkeypatch.setattr(connection_check, "PING_AFTER_IDLE", 0.0)
    _backend(engine)
    assert pings == [1]


def test_should_see_a_closed_socket_as_closed(engine: Engine) -> None:
    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        assert not connection_check.server_closed(raw)
        raw.close()
        assert connection_check.server_closed(raw)
        connection.invalidate()
