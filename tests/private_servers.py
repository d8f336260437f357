"""The session's Redis, MariaDB and PostgreSQL: the configured servers when they accept a
login, otherwise private ones started for this session.

:func:`server_url` is the one entry point. When the configured URL (``--redis-url``,
``--mysql-url``, ``--postgres-url``) accepts a login, it is used as it is: the fast path
on a developer's machine and in CI, where the services run (the probe takes milliseconds).
When it does not - a fresh machine with only Python, make and git, where ``make test``
installed the Debian packages but nothing runs, or a freshly installed Debian service
that refuses ``root``/``postgres`` without a password - a private server starts on a free
port of 127.0.0.1 in a temporary directory; it is stopped and the directory removed when
the session ends. The terminal summary names every private server and why it was needed.

The servers are started by the executors of pytest-redis, pytest-mysql and
pytest-postgresql (mirakuru: start, wait for the port, stop). Their ``*_proc`` fixtures
are not used, for two reasons: they always start a server, while here the session
decides at run time; and they put the data under pytest's basetemp, which only the user
running pytest may enter (mode 0700) and which pytest keeps for three sessions. When
that user is root, PostgreSQL (which refuses to run as root) and MariaDB run as their
own unprivileged system users, which must own the directory. The plugins' options still
choose the binaries: ``--redis-exec``, ``--mysql-mysqld``, ``--mysql-mysqld-safe``,
``--mysql-admin``, ``--mysql-install-db``, ``--postgresql-exec`` (defaults: the Debian
paths in ``pyproject.toml``).
"""

from __future__ import annotations

import getpass
import os
import pwd
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
import redis
from mirakuru import Executor
from port_for import get_port
from pytest_mysql.config import get_config as mysql_config
from pytest_mysql.executor import MySQLExecutor
from pytest_postgresql.config import get_config as postgresql_config
from pytest_postgresql.executors import PostgreSQLExecutor
from pytest_redis.config import get_config as redis_config
from pytest_redis.executor import RedisExecutor
from sqlalchemy import create_engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

HOST = "127.0.0.1"
PROBE_TIMEOUT_S = 2
START_ATTEMPTS = 3
READY_TIMEOUT_S = 60
PRIVATE_SERVERS = pytest.StashKey[list[str]]()
"""One line per private server of the session, for the terminal summary."""


def login_error(kind: str, url: str) -> str | None:
    """``None`` when the ``kind`` server at ``url`` accepts a login, else why it does not."""
    try:
        if kind == "redis":
            with redis.Redis.from_url(
                url, socket_connect_timeout=PROBE_TIMEOUT_S, socket_timeout=PROBE_TIMEOUT_S
            ) as client:
                client.ping()
        else:
            engine = create_engine(
                url, poolclass=NullPool, connect_args={"connect_timeout": PROBE_TIMEOUT_S}
            )
            try:
                with engine.connect():
                    pass
            finally:
                engine.dispose()
    except (redis.RedisError, SQLAlchemyError) as error:
        return str(getattr(error, "orig", None) or error).strip().splitlines()[0]
    return None


@contextmanager
def server_url(
    request: pytest.FixtureRequest, kind: str, configured: str, started: list[str]
) -> Iterator[str]:
    """The configured server's URL when it answers, else a private server's until the end
    of the ``with`` block; a line about the private server is appended to ``started``.

    ``kind`` is ``redis``, ``mariadb`` or ``postgresql``; a private MariaDB or PostgreSQL
    URL has no database part, like the configured ones.
    """
    reason = login_error(kind, configured)
    if reason is None:
        yield configured
        return
    with _started(request, kind, f"{kind} at {configured} does not answer ({reason})") as url:
        started.append(f"{kind}: {url} (the configured {configured} did not answer: {reason})")
        yield url


@contextmanager
def _started(request: pytest.FixtureRequest, kind: str, why: str) -> Iterator[str]:
    """A private server of ``kind`` in a new temporary directory, removed afterwards.

    A free port may be taken by another process before the server binds it (other test
    sessions share the machine): a server that does not start is tried again on a new
    port, up to :data:`START_ATTEMPTS` times."""
    for attempt in range(1, START_ATTEMPTS + 1):
        workdir = Path(tempfile.mkdtemp(prefix=f"pt-test-{kind}-"))
        try:
            executor, url = _PRIVATE[kind](request, workdir)
            try:
                executor.start()
                _wait_for_login(kind, url)
            except Exception as error:
                with suppress(Exception):
                    executor.stop()  # a server that started but never let us in
                if attempt < START_ATTEMPTS:
                    continue
                raise RuntimeError(
                    f"{why} and a private {kind} server did not start: {error!r}. Run "
                    f"`make test` (it installs the Debian packages) or start the server. "
                    f"Log: {_log_tail(workdir)}"
                ) from error
            try:
                yield url
            finally:
                executor.stop()
            return
        finally:
            shutil.rmtree(workdir, ignore_errors=True)


def _wait_for_login(kind: str, url: str) -> None:
    """The port opens before the server lets the suite in: PostgreSQL answers "the database
    system is starting up" for a while, MariaDB may not have run its init file yet."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while (error := login_error(kind, url)) is not None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no login within {READY_TIMEOUT_S} s: {error}")
        time.sleep(0.1)


def _redis(request: pytest.FixtureRequest, workdir: Path) -> tuple[Executor, str]:
    config = redis_config(request)
    port = _free_port()
    executor = RedisExecutor(
        executable=config.exec or "/usr/bin/redis-server",
        databases=config.db_count,
        # Idle clients stay connected, as with redis-server's default (the plugin's
        # default closes them after 15 s).
        redis_timeout=0,
        loglevel=config.loglevel,
        host=HOST,
        port=port,
        datadir=workdir,
    )
    return executor, f"redis://{HOST}:{port}/0"


def _mariadb(request: pytest.FixtureRequest, workdir: Path) -> tuple[Executor, str]:
    config = mysql_config(request)
    port = _free_port()
    # mysql_install_db creates root@localhost for the unix socket only; the suite logs in
    # as root without a password over TCP, as on the machine's own server.
    init = workdir / "init.sql"
    init.write_text(
        f"CREATE USER IF NOT EXISTS 'root'@'{HOST}';\n"
        f"GRANT ALL PRIVILEGES ON *.* TO 'root'@'{HOST}' WITH GRANT OPTION;\n"
    )
    executor = MySQLExecutor(
        mysqld_safe=config.mysqld_safe,
        mysqld=config.mysqld,
        admin_exec=config.admin,
        logfile_path=str(workdir / "server.log"),
        params=f"--skip-name-resolve --bind-address={HOST} --init-file={init}",
        base_directory=workdir,
        user=_owner("mysql", workdir, init),
        host=HOST,
        port=port,
        install_db=config.install_db,
    )
    return executor, f"mysql+pymysql://root@{HOST}:{port}"


def _postgresql(request: pytest.FixtureRequest, workdir: Path) -> tuple[Executor, str]:
    config = postgresql_config(request)
    port = _free_port()
    pg_ctl = str(config.exec)
    if os.geteuid() == 0:
        pg_ctl = _unprivileged_pg_ctl(pg_ctl, _owner("postgres", workdir), workdir)
    executor = PostgreSQLExecutor(
        executable=pg_ctl,
        host=HOST,
        port=port,
        datadir=str(workdir / "data"),
        unixsocketdir=str(workdir),
        logfile=str(workdir / "server.log"),
        startparams=config.startparams,
        dbname="postgres",
        user="postgres",
        # A throw-away server: nothing here has to survive a crash of the machine.
        postgres_options="-c fsync=off",
    )
    return executor, f"postgresql+psycopg://postgres@{HOST}:{port}"


_PRIVATE: dict[str, Callable[[pytest.FixtureRequest, Path], tuple[Executor, str]]] = {
    "redis": _redis,
    "mariadb": _mariadb,
    "postgresql": _postgresql,
}


def _owner(system_user: str, *paths: Path) -> str:
    """The user the server runs as, and who owns ``paths``: the current user, or
    ``system_user`` (created by the server's Debian package) when that is root."""
    if os.geteuid() != 0:
        return getpass.getuser()
    account = pwd.getpwnam(system_user)
    for path in paths:
        os.chown(path, account.pw_uid, account.pw_gid)
    return account.pw_name


def _unprivileged_pg_ctl(pg_ctl: str, user: str, workdir: Path) -> str:
    """A ``pg_ctl`` that runs the real one as ``user`` (initdb, pg_ctl and the server
    refuse root). pytest-postgresql has no option for this; its executor calls this
    script wherever it would call ``pg_ctl``. ``cd /``: PostgreSQL's tools stop when they
    cannot read the current directory (root's may be closed to ``user``)."""
    account = pwd.getpwnam(user)
    wrapper = workdir / "pg_ctl"
    wrapper.write_text(
        "#!/bin/sh\n"
        f"cd / && exec setpriv --reuid={account.pw_uid} --regid={account.pw_gid} --clear-groups -- "
        f'{pg_ctl} "$@"\n'
    )
    wrapper.chmod(0o755)
    return str(wrapper)


def _free_port() -> int:
    port = get_port(None)
    assert port is not None
    return port


def _log_tail(workdir: Path) -> str:
    logs = sorted(workdir.glob("*.log"))
    return logs[0].read_text(errors="replace")[-1500:] if logs else "(none)"
