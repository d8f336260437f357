"""``page-tracker flush``: move Redis mode's pending hits into the database now, or
handle the dead letters (``--dead-letters list|retry|drop``)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from page_tracker.buffer.dead_letters import DeadLetters
from page_tracker.buffer.tasks import get_flusher
from page_tracker.cli_errors import fail


def _dead_letters(letters: DeadLetters, action: str) -> None:
    if action == "list":
        listed = letters.read()
        for letter in listed:
            # The error is a database's message: one line, printable only.
            error = "".join(ch if ch.isprintable() else "?" for ch in letter.error)
            click.echo(
                f"{letter.letter_id}  batch {letter.batch_id}  {len(letter.views)} hits  "
                f"after {letter.attempts} attempts: {error}"
            )
        click.echo(f"{len(listed)} dead letter{'' if len(listed) == 1 else 's'}")
    elif action == "retry":
        click.echo(f"{letters.retry()} dead letters put back into the hit stream")
    else:
        click.echo(f"{letters.drop()} dead letters dropped")


@click.command("flush")
@click.option("--max-seconds", default=60.0, show_default=True, type=click.FloatRange(0.1))
@click.option(
    "--dead-letters",
    "dead_letters",
    type=click.Choice(["list", "retry", "drop"]),
    default=None,
    help="List the hits the flush gave up on, put them back into the stream (after a "
    "fix), or drop them; nothing is flushed then.",
)
@with_appcontext
def flush_command(max_seconds: float, dead_letters: str | None) -> None:
    """Flush Redis mode's pending hits into the database now (beat does it every 2 s)."""
    flusher = get_flusher(current_app)
    if flusher is None:
        fail("flush needs REDIS_URL (embedded mode writes hits straight to the database)")
    try:
        if dead_letters is not None:
            _dead_letters(flusher.dead_letters, dead_letters)
            return
        result = flusher.flush(max_seconds=max_seconds)
    except (SQLAlchemyError, RedisError) as error:
        fail(f"flush failed (nothing lost, run it again): {str(error).splitlines()[0]}")
    click.echo(
        f"flushed {result.views} hits in {result.entries} batches "
        f"({result.duplicates} already counted); {flusher.backlog()} batches left"
    )
    if result.failed or flusher.dead_letters.count():
        click.echo(
            f"{result.failed} batches failed for their data (retried by the next flush); "
            f"{flusher.dead_letters.count()} dead letters (see --dead-letters list)"
        )
