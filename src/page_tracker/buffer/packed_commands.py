"""Redis commands packed once and sent in one write: the sink's round trip per batch.

redis-py's pipeline encodes every argument in Python (an ``isinstance`` chain and a
copy per argument), sends an argument larger than 6 000 bytes (a batch's payload) in a
``sendall`` of its own, and, when it holds a registered script, first asks Redis
``SCRIPT EXISTS`` in a round trip of its own. Profiled in the Redis-mode ingest path
(bench/README.md, issue 13) that was about a sixth of the process's CPU per hit.
:class:`PackedCommands` packs the RESP frames with one ``%``-format per argument and
:meth:`PackedCommands.execute` writes them with one ``sendall`` on a pooled connection
and reads one reply per command, as the pipeline did: error replies are returned in
their place, connection errors retried by the client's retry policy (the pipeline's).
"""

from __future__ import annotations

from typing import Any

import redis
from redis.exceptions import ResponseError

Argument = bytes | str | int | float


def _frame(argument: Argument) -> bytes:
    if isinstance(argument, bytes):
        value = argument
    elif isinstance(argument, str):
        value = argument.encode()
    elif isinstance(argument, int):
        value = b"%d" % argument
    else:
        value = repr(argument).encode()  # a float: repr round-trips, as redis-py writes it
    return b"$%d\r\n%b\r\n" % (len(value), value)


class PackedCommands:
    """Commands packed as they are added, sent together by :meth:`execute`."""

    __slots__ = ("_frames", "count")

    def __init__(self) -> None:
        self._frames: list[bytes] = []
        self.count = 0

    def add(self, *arguments: Argument) -> None:
        """Append one command (its name first)."""
        self._frames.append(b"*%d\r\n" % len(arguments))
        self._frames += map(_frame, arguments)
        self.count += 1

    @property
    def packed(self) -> bytes:
        return b"".join(self._frames)

    def execute(self, client: redis.Redis) -> list[Any]:
        """Send every command in one write on a connection of ``client``'s pool; the
        reply of each, in order (an error reply as its :class:`ResponseError`).

        Raises :class:`redis.ConnectionError` or :class:`redis.TimeoutError` when the
        client's retries are spent (the connection is then closed, not reused)."""
        packed = self.packed
        pool = client.connection_pool
        connection: Any = pool.get_connection()  # redis-py types it loosely
        try:
            replies: list[Any] = connection.retry.call_with_retry(
                lambda: self._round_trip(connection, packed),
                lambda _error: connection.disconnect(),
            )
            return replies
        finally:
            pool.release(connection)

    def _round_trip(self, connection: Any, packed: bytes) -> list[Any]:
        connection.send_packed_command([packed])
        replies: list[Any] = []
        for _ in range(self.count):
            try:
                replies.append(connection.read_response())
            except ResponseError as error:  # read whole: the connection stays in step
                replies.append(error)
        return replies
