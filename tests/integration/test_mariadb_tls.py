"""MariaDB connections share one PREFERRED-mode TLS context a process
(``page_tracker.mariadb_tls``): PyMySQL built one per connection, loading the CA bundle
each time. Real MariaDB."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, text

from page_tracker import mariadb_tls
from page_tracker.db import make_engine

pytestmark = pytest.mark.parametrize("database_url", ["mariadb"], indirect=True)


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """One entry per TLS context built in this test (the process's cache emptied)."""
    mariadb_tls.preferred_context.cache_clear()
    made: list[int] = []
    create = ssl.create_default_context

    def counted(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        made.append(1)
        return create(*args, **kwargs)

    monkeypatch.setattr(ssl, "create_default_context", counted)
    yield made
    mariadb_tls.preferred_context.cache_clear()


@contextmanager
def _engine(url: str) -> Iterator[Engine]:
    engine = make_engine(url, pool_size=1)
    yield engine
    engine.dispose()


def _new_connection_answers(engine: Engine) -> Any:
    engine.pool.dispose()  # the next checkout opens a new connection
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT 1")) == 1
        return connection.connection.dbapi_connection


def test_connections_share_one_context(database_url: str, built: list[int]) -> None:
    with _engine(database_url) as engine:
        first = _new_connection_answers(engine)
        second = _new_connection_answers(engine)
        assert first is not second
        assert first.ctx is second.ctx is mariadb_tls.preferred_context()
    assert len(built) == 1


def test_the_shared_context_is_pymysqls_preferred_one(database_url: str) -> None:
    """Same verification as PyMySQL's own: none (PREFERRED checks no certificate)."""
    context = mariadb_tls.preferred_context()
    assert context.verify_mode == ssl.CERT_NONE
    assert context.check_hostname is False
    assert not context.verify_flags & ssl.VERIFY_X509_STRICT


def test_urls_with_tls_options_keep_pymysqls_handling(database_url: str, built: list[int]) -> None:
    with _engine(f"{database_url}?ssl_disabled=true") as engine:
        connection = _new_connection_answers(engine)
        assert connection.ssl is False
        assert type(connection).__name__ == "Connection"
    assert built == []
