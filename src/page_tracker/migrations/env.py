"""Alembic environment: runs with the connection handed over by :mod:`page_tracker.migrate`,
or, for the ``alembic`` command line, with ``DATABASE_URL`` from the settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from page_tracker import models  # noqa: F401 - registers every table on Base.metadata
from page_tracker.db import Base, make_engine
from page_tracker.settings import load_settings

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite has no ALTER COLUMN
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection: Connection | None = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(load_settings().database_url)
    with engine.connect() as new_connection:
        _run(new_connection)
    engine.dispose()


if context.is_offline_mode():
    context.configure(url=load_settings().database_url, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
