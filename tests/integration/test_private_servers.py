"""The session's servers: the configured ones when they answer, private ones otherwise
(tests/private_servers.py), so ``make test`` also passes on a machine where none runs."""

from __future__ import annotations

import socket
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import make_url

from tests import private_servers
from tests.private_servers import login_error, server_url

# Port 1 on loopback: nothing listens there, the connection is refused at once.
NOT_ANSWERING = {
    "redis": "redis://127.0.0.1:1/0",
    "mariadb": "mysql+pymysql://root@127.0.0.1:1",
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:1",
}


@pytest.mark.parametrize("kind", sorted(NOT_ANSWERING))
def test_should_start_a_private_server_when_the_configured_one_does_not_answer(
    request: pytest.FixtureRequest, kind: str
) -> None:
    # Given a configured server that does not answer
    configured = NOT_ANSWERING[kind]
    started: list[str] = []
    before = set(Path(tempfile.gettempdir()).glob(f"pt-test-{kind}-*"))
    # When the session asks for its URL
    with server_url(request, kind, configured, started) as url:
        # Then a private server on another port accepts the suite's login
        assert make_url(url).port not in (None, make_url(configured).port)
        assert login_error(kind, url) is None
        assert started == [
            f"{kind}: {url} (the configured {configured} did not answer: "
            f"{login_error(kind, configured)})"
        ]
        workdirs = set(Path(tempfile.gettempdir()).glob(f"pt-test-{kind}-*")) - before
        assert len(workdirs) == 1
    # And it is stopped and its directory removed afterwards
    assert login_error(kind, url) is not None
    assert not workdirs.pop().exists()


def test_should_use_the_configured_server_when_it_answers(
    request: pytest.FixtureRequest, redis_url: str
) -> None:
    # Given the session's Redis, which answers
    started: list[str] = []
    # When the URL is asked for again
    with server_url(request, "redis", redis_url, started) as url:
        # Then it is used as it is and nothing is started
        assert url == redis_url
    assert started == []


def test_should_say_why_a_server_does_not_answer() -> None:
    assert login_error("redis", NOT_ANSWERING["redis"]) is not None
    assert "refused" in str(login_error("postgresql", NOT_ANSWERING["postgresql"]))


def test_should_try_another_port_when_the_free_one_was_taken_meanwhile(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a port that another process takes right after it was found free
    with socket.create_server(("127.0.0.1", 0)) as taken:
        taken_port = taken.getsockname()[1]
        ports = iter([taken_port])
        real_free_port = private_servers._free_port
        monkeypatch.setattr(private_servers, "_free_port", lambda: next(ports, real_free_port()))
        # When a private Redis starts
        with server_url(request, "redis", NOT_ANSWERING["redis"], []) as url:
            # Then it runs on another port
            assert make_url(url).port != taken_port
            assert login_error("redis", url) is None
