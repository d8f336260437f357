"""Counting the SQL statements an app sends: proof that a read did not reach the database."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from sqlalchemy import event

from page_tracker.db import get_db


def count_queries(app: Flask) -> Callable[[], int]:
    """Start counting the statements of ``app``'s engine; the result tells how many so far."""
    seen: list[str] = []
    with app.app_context():
        engine = get_db().engine

    def before(*args: object) -> None:
        seen.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", before)
    return lambda: len(seen)
