"""How every ``page-tracker`` command fails: one ``page-tracker: error: ...`` line on
stderr and a non-zero exit. Its own module so feature command groups (``sites``,
``stats``, ``users``) use it without importing the top-level ``cli`` that registers them."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import click
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from page_tracker.db import get_session
from page_tracker.errors import APIError
from page_tracker.redaction import redact
from page_tracker.terminal import terminal_safe


def fail(message: str, exit_code: int = 1) -> NoReturn:
    """Print one error line to stderr and exit (secrets redacted; control characters of
    the message, which may quote a reader's data or a database error, escaped)."""
    click.echo(f"page-tracker: error: {terminal_safe(redact(message))}", err=True)
    sys.exit(exit_code)


@contextmanager
def committed() -> Iterator[Session]:
    """The command's session, committed at the end; a refused change or a database
    error ends the command with one line (and nothing is committed)."""
    session = get_session()
    try:
        yield session
        session.commit()
    except APIError as error:
        session.rollback()
        fail(error.message)
    except SQLAlchemyError as error:
        session.rollback()
        fail(f"database error: {str(error).splitlines()[0]}")
