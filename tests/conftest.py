"""Shared fixtures and command-line options for every test layer.

Real services are used, never mocks: each test session creates its own databases on
MariaDB and PostgreSQL (``pt_test_<random>``) and its own Redis key prefix, so several
sessions can share one machine's servers without seeing each other's data. Where the
configured servers do not answer, the session starts private ones
(:mod:`tests.private_servers`).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from tests.databases import DATABASE_KINDS, empty_all_tables, provisioned_database
from tests.private_servers import PRIVATE_SERVERS, server_url

# Property-based tests (hypothesis): few examples by default, so that `make test` stays
# fast; `pytest --hypothesis-profile=long` for a deeper run. No deadline: the examples
# talk to real databases on a shared machine. Examples are not replayed from a local
# database, so a run is what its seed says.
settings.register_profile(
    "default",
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)
settings.register_profile(
    "long",
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)
settings.load_profile("default")

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_MYSQL_URL = "mysql+pymysql://root@127.0.0.1:3306"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("page-tracker")
    group.addoption(
        "--flask-url",
        default=os.environ.get("FLASK_URL"),
        help="Run e2e tests against this already-running deployment instead of starting one.",
    )
    group.addoption(
        "--redis-url",
        default=os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS_URL),
        help="Redis server for integration and e2e tests (a private one starts when it "
        "does not answer).",
    )
    group.addoption(
        "--mysql-url",
        default=os.environ.get("TEST_MYSQL_URL", DEFAULT_MYSQL_URL),
        help="MariaDB/MySQL server URL (no database part) for integration tests (a private "
        "one starts when it does not answer).",
    )
    group.addoption(
        "--postgres-url",
        default=os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="PostgreSQL server URL (no database part) for integration tests (a private "
        "one starts when it does not answer).",
    )
    group.addoption(
        "--databases",
        default=os.environ.get("TEST_DATABASES", ",".join(DATABASE_KINDS)),
        help="Comma-separated database kinds to run database tests on (CI's matrix runs one "
        f"per job); default: all of {', '.join(DATABASE_KINDS)}.",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect database tests of the kinds not chosen with ``--databases``."""
    chosen = {kind.strip() for kind in config.getoption("--databases").split(",") if kind.strip()}
    unknown = chosen - set(DATABASE_KINDS)
    if unknown or not chosen:
        raise pytest.UsageError(
            f"--databases: unknown kind(s) {', '.join(sorted(unknown)) or '(none given)'}; "
            f"choose from {', '.join(DATABASE_KINDS)}"
        )
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        kind = callspec.params.get("database_url") if callspec is not None else None
        (dropped if kind is not None and kind not in chosen else keep).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@pytest.fixture(scope="session")
def session_token() -> str:
    """A short random token that names this session's databases and Redis keys."""
    return uuid.uuid4().hex[:10]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    private = terminalreporter.config.stash.get(PRIVATE_SERVERS, [])
    if private:
        terminalreporter.write_sep("-", "private servers of this session (removed)")
        for line in private:
            terminalreporter.write_line(line)


def _server(request: pytest.FixtureRequest, kind: str, option: str) -> Iterator[str]:
    started = request.config.stash.setdefault(PRIVATE_SERVERS, [])
    with server_url(request, kind, request.config.getoption(option), started) as url:
        yield url


@pytest.fixture(scope="session")
def redis_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The Redis of ``--redis-url``, or a private one when that does not answer."""
    yield from _server(request, "redis", "--redis-url")


@pytest.fixture(scope="session")
def mariadb_server_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The MariaDB of ``--mysql-url``, or a private one when that does not answer."""
    yield from _server(request, "mariadb", "--mysql-url")


@pytest.fixture(scope="session")
def postgresql_server_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The PostgreSQL of ``--postgres-url``, or a private one when that does not answer."""
    yield from _server(request, "postgresql", "--postgres-url")


@pytest.fixture
def redis_prefix(session_token: str) -> str:
    """A key prefix unique to one test: tests never flush a shared Redis."""
    return f"pt-test:{session_token}:{uuid.uuid4().hex[:8]}:"


@pytest.fixture(autouse=True)
def _isolated_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Tests never read the developer's ``.env`` or environment configuration."""
    for name in (
        "DATABASE_URL",
        "REDIS_URL",
        "CELERY_BROKER_URL",
        "SECRET_KEY",
        "LOG_CONFIG",
        "PAGE_TRACKER_ENV",
        "LOG_DIR",
        "LOG_LEVEL",
        "REDIS_KEY_PREFIX",
        "INGEST_BATCH_MAX",
        "INGEST_BATCH_LINGER_MS",
        "TRUSTED_PROXIES",
        "BUSUANZI_AUTOCREATE_HOSTS",
        "LOGIN_LIMITS_PER_ADDRESS",
        "LOGIN_LIMITS_PER_ACCOUNT",
        "EMBEDDED_JOBS",
        "LOG_FULL_ACCESS",
        "INGEST_RATE_LIMIT",
        "MAINTENANCE_LOCK",
        "REDIS_ACCEPT_EVICTION_RISK",
        "IMPORT_DIR",
        "IMPORT_MAX_BYTES",
        "IMPORT_LEASE_SECONDS",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))


@pytest.fixture(scope="session", params=DATABASE_KINDS)
def database_url(
    request: pytest.FixtureRequest, session_token: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database of each kind (SQLite file, MariaDB, PostgreSQL) for this session.

    Tests that use it run once per kind; :func:`clean_database` empties it between tests.
    """
    kind: str = request.param
    # Asked for here, not as parameters: a session without MariaDB tests never probes or
    # starts MariaDB (likewise PostgreSQL).
    server = "" if kind == "sqlite" else request.getfixturevalue(f"{kind}_server_url")
    name = f"pt_test_{session_token}_{kind}"
    with provisioned_database(kind, server, name, tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture
def clean_database(database_url: str) -> Iterator[str]:
    """The session's database of one kind, emptied after the test."""
    yield database_url
    empty_all_tables(database_url)
