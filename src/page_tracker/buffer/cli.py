"""``page-tracker flush``: move Redis mode's pending hits into the database now."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from page_tracker.buffer.tasks import get_flusher
from page_tracker.cli_errors import fail


@click.command("flush")
@click.option("--max-seconds", default=60.0, show_default=True, type=click.FloatRange(0.1))
@with_appcontext
def flush_command(max_seconds: float) -> None:
    """Flush Redis mode's pending hits into the database now (beat does it every 2 s)."""
    flusher = get_flusher(current_app)
    if flusher is None:
        fail("flush needs REDIS_URL (embedded mode writes hits straight to the database)")
    try:
        result = flusher.flush(max_seconds=max_seconds)
    except (SQLAlchemyError, RedisError) as error:
        fail(f"flush failed (nothing lost, run it again): {str(error).splitlines()[0]}")
    click.echo(
        f"flushed {result.views} hits in {result.entries} batches "
        f"({result.duplicates} already counted); {flusher.backlog()} batches left"
    )
