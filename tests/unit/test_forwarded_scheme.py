"""Behind ``TRUSTED_PROXIES`` the app takes the scheme from ``X-Forwarded-Proto`` (the
server, granian, reads no forwarded headers); without it a client cannot forge it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, request

from page_tracker.app import close_app, create_app
from page_tracker.settings import load_settings


def app_with_probe(tmp_path: Path, trusted_proxies: int) -> Iterator[Flask]:
    settings = load_settings(
        LOG_DIR=str(tmp_path / "log"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'pt.sqlite3'}",
        TRUSTED_PROXIES=str(trusted_proxies),
    )
    app = create_app(settings=settings, configure_logging=False)
    app.add_url_rule("/_probe", "probe", lambda: f"{request.host_url} {request.remote_addr}")
    try:
        yield app
    finally:
        close_app(app)


@pytest.fixture
def behind_proxy(tmp_path: Path) -> Iterator[Flask]:
    yield from app_with_probe(tmp_path, 1)


@pytest.fixture
def direct(tmp_path: Path) -> Iterator[Flask]:
    yield from app_with_probe(tmp_path, 0)


def get_probe(app: Flask, headers: dict[str, str]) -> str:
    answer = app.test_client().get(
        "/_probe", headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.2"}
    )
    return answer.get_data(as_text=True)


def test_should_take_the_scheme_from_the_trusted_proxy(behind_proxy: Flask) -> None:
    answer = get_probe(
        behind_proxy, {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    )

    # the scheme is the reader's; the peer address is left to the hit path's own rule
    assert answer == "https://localhost/ 10.0.0.2"


def test_should_take_the_nearest_proxy_value_when_a_client_sent_its_own(
    behind_proxy: Flask,
) -> None:
    assert get_probe(behind_proxy, {"X-Forwarded-Proto": "https, http"}).startswith("http://")


@pytest.mark.parametrize("value", ["https", "gopher", "", "\x00https"])
def test_should_ignore_the_header_without_trusted_proxies(direct: Flask, value: str) -> None:
    assert get_probe(direct, {"X-Forwarded-Proto": value}).startswith("http://localhost/ ")
