"""Redis mode's dead letters: stream entries the flush could not write.

An entry whose write fails for its own data (:func:`page_tracker.db.is_poison`: a value
no database takes) would otherwise be taken again by every flush, forever. After
``MAX_FLUSH_ATTEMPTS`` failed attempts the flush moves it here (``P hits:dead``,
see :mod:`page_tracker.buffer.redis_keys`): out of the hit stream and its pending
counts, kept with the last error for an operator, who lists, retries (after a fix) or
drops them with ``page-tracker flush --dead-letters list|retry|drop``; ``/readyz``
shows how many there are. A database that is down is never poison: its entries stay
in the stream and are flushed once it is back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis

from page_tracker.buffer.batch_format import decode_views
from page_tracker.buffer.redis_keys import GROUP, RedisKeys, pending_counts
from page_tracker.buffer.redis_scripts import Scripts, ingest_arguments
from page_tracker.stats.pageview import PageView

MAX_FLUSH_ATTEMPTS = 3
MAX_ERROR_LENGTH = 500


@dataclass(frozen=True)
class DeadLetter:
    """One dead letter: its own id, the batch it holds and why it was buried."""

    letter_id: str
    batch_id: str
    payload: bytes
    error: str
    attempts: int
    entry_id: str

    @property
    def views(self) -> list[PageView]:
        return decode_views(self.payload)


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


class DeadLetters:
    """The dead letters under one key prefix."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client = client
        self.keys = RedisKeys(prefix)
        self.scripts = Scripts(client)

    def count(self) -> int:
        return int(self.client.xlen(self.keys.dead_letters))

    def read(self, limit: int | None = None) -> list[DeadLetter]:
        """The dead letters, oldest first."""
        raw: Any = self.client.xrange(self.keys.dead_letters, count=limit)
        return [
            DeadLetter(
                letter_id=_text(letter_id),
                batch_id=_text(fields.get(b"id", b"")),
                payload=fields.get(b"v", b""),
                error=_text(fields.get(b"error", b"")),
                attempts=int(fields.get(b"attempts", 0)),
                entry_id=_text(fields.get(b"entry", b"")),
            )
            for letter_id, fields in raw
        ]

    def bury(
        self, entry_id: str, batch_id: str, payload: bytes, views: list[PageView], error: str
    ) -> None:
        """Move a stream entry here, atomically: add the letter, acknowledge and delete
        the entry with its pending counts (as a flush does), forget its attempts."""
        # The flush's ack script, with no page totals to raise (nothing was written).
        argv: list[Any] = [GROUP, 0, entry_id, len(counts := pending_counts(views))]
        for field, count in counts.items():
            argv += [field, count]
        pipe = self.client.pipeline(transaction=True)
        attempts_key = self.keys.failures
        pipe.xadd(
            self.keys.dead_letters,
            {
                "id": batch_id,
                "v": payload,
                "error": error[:MAX_ERROR_LENGTH],
                "attempts": str(MAX_FLUSH_ATTEMPTS),
                "entry": entry_id,
            },
        )
        self.scripts.ack(
            keys=[self.keys.stream, self.keys.pending, self.keys.totals], args=argv, client=pipe
        )
        pipe.hdel(attempts_key, entry_id)
        pipe.execute()

    def retry(self) -> int:
        """Put every dead letter back into the hit stream (the next flush takes it);
        return how many. Counted once even if a letter's batch was counted meanwhile:
        the batch keeps its id."""
        letters = self.read()
        for letter in letters:
            views = letter.views
            keys, argv = ingest_arguments(self.keys, letter.batch_id, letter.payload, views)
            pipe = self.client.pipeline(transaction=True)
            self.scripts.ingest(keys=keys, args=argv, client=pipe)
            pipe.xdel(self.keys.dead_letters, letter.letter_id)
            pipe.execute()
        return len(letters)

    def drop(self) -> int:
        """Delete every dead letter; return how many."""
        letters = self.read()
        if letters:
            self.client.xdel(self.keys.dead_letters, *(letter.letter_id for letter in letters))
        return len(letters)
