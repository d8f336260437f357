"""Provision throw-away databases on the real servers for one test session."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from page_tracker import migrate
from page_tracker.db import Base, make_engine

DATABASE_KINDS = ("sqlite", "mariadb", "postgresql")


@contextmanager
def provisioned_database(kind: str, server_url: str, name: str, tmp_dir: Path) -> Iterator[str]:
    """Create database ``name`` (a file for SQLite), migrate it to head, yield its URL,
    and drop it afterwards."""
    if kind == "sqlite":
        url = f"sqlite:///{(tmp_dir / f'{name}.sqlite3').as_posix()}"
        _migrate(url)
        yield url
        return
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    quoted = f"`{name}`" if kind == "mariadb" else f'"{name}"'
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {quoted}"))
        extra = " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin" if kind == "mariadb" else ""
        connection.execute(text(f"CREATE DATABASE {quoted}{extra}"))
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        _migrate(url)
        yield url
    finally:
        with admin.connect() as connection:
            if kind == "postgresql":
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
            connection.execute(text(f"DROP DATABASE IF EXISTS {quoted}"))
        admin.dispose()


def _migrate(url: str) -> None:
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()


def empty_all_tables(url: str) -> None:
    """Delete every row of every application table (keeps the schema and its version)."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(table.delete())
    finally:
        engine.dispose()
