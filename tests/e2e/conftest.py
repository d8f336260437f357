"""End-to-end fixtures: a real ``page-tracker serve``, or ``--flask-url`` to use a deployment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.server import Server

# With --flask-url (the compose `testing` profile) only the tests that talk to that
# deployment run: a test that starts its own server process tests this checkout, which
# `make test` does on the host, and would only slow the whole-system test down.
LOCAL_ONLY = pytest.mark.skip(reason="needs a local server; covered by make test")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    remote = bool(config.getoption("--flask-url"))
    for item in items:
        if "tests/e2e" in str(item.path):
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.timeout(120))
            if remote and "flask_url" not in getattr(item, "fixturenames", ()):
                item.add_marker(LOCAL_ONLY)


@pytest.fixture(scope="session")
def deployment_url(request: pytest.FixtureRequest) -> str | None:
    url: str | None = request.config.getoption("--flask-url")
    return url.rstrip("/") if url else None


@pytest.fixture(scope="module")
def server(
    deployment_url: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server | None]:
    """A ``page-tracker serve`` on embedded SQLite, or ``None`` when testing a deployment."""
    if deployment_url:
        yield None
        return
    workdir = tmp_path_factory.mktemp("server")
    local = Server(
        workdir,
        {"PAGE_TRACKER_ENV": "production", "SECRET_KEY": "e2e-" + "k" * 32},
        extra_args=("--access-log",),  # test_seed_page reads the access lines
    )
    migrated = local.run_cli("db", "upgrade")
    assert migrated.returncode == 0, migrated.stderr
    yield local.start()
    local.stop()


@pytest.fixture(scope="module")
def flask_url(deployment_url: str | None, server: Server | None) -> str:
    """Base URL of the page-tracker under test."""
    if deployment_url:
        return deployment_url
    assert server is not None
    return server.url


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path
