"""How every ``page-tracker`` command fails: one ``page-tracker: error: ...`` line on
stderr and a non-zero exit. Its own module so feature command groups (``sites``,
``stats``) use it without importing the top-level ``cli`` that registers them."""

from __future__ import annotations

import sys
from typing import NoReturn

import click

from page_tracker.terminal import terminal_safe


def fail(message: str, exit_code: int = 1) -> NoReturn:
    """Print one error line to stderr and exit (control characters of the message, which
    may quote a reader's data or a database error, are escaped)."""
    click.echo(f"page-tracker: error: {terminal_safe(message)}", err=True)
    sys.exit(exit_code)
