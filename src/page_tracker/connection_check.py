"""Pooled connections checked before use without a round trip to the database.

SQLAlchemy's ``pool_pre_ping`` sends ``SELECT 1`` (MariaDB: ``COM_PING``) on every
checkout: a round trip per request, which a request whose answer is cached otherwise
would not make at all. What it is for, a connection the server closed while it sat in
the pool (a restart, ``pg_terminate_backend``, ``KILL``, ``wait_timeout``), shows
without asking the server: a server that closes a connection says so on its socket (an
error message and end of file), and a socket idle in the pool has nothing else to read.
So a checkout looks at the socket (``poll`` with no wait, microseconds) and replaces the
connection, with every other pooled one older than it (a restart closed them all), when
the socket is readable or gone. A connection that sat idle :data:`PING_AFTER_IDLE`
seconds or more is pinged as before: a connection a firewall or NAT dropped silently
shows nothing on its socket, and those drop idle connections only.

A server that goes away between the check and the first statement fails that statement,
as it would after a ping; SQLAlchemy then invalidates the pool (optimistic handling)
and the next request connects anew.
"""

from __future__ import annotations

import select
import time
from typing import Any, Final

from sqlalchemy import Engine, event
from sqlalchemy.exc import InvalidatePoolError

PING_AFTER_IDLE: Final = 60.0  # seconds; also well below any server's idle timeout
_CHECKED_IN: Final = "pt_checked_in"  # the connection record's info: when it came back


def _fileno(dbapi_connection: Any) -> int:
    """The socket of a psycopg 3 (``fileno()``) or PyMySQL (``_sock``, it has no public
    accessor) connection; raises when there is none (closed)."""
    fileno = getattr(dbapi_connection, "fileno", None)
    if callable(fileno):
        return int(fileno())
    return int(dbapi_connection._sock.fileno())


def server_closed(dbapi_connection: Any) -> bool:
    """True when the server closed (or wrote to) this idle connection, or it has no
    socket any more."""
    try:
        fd = _fileno(dbapi_connection)
    except Exception:  # any failure to find the socket: not usable
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


def check_on_checkout(engine: Engine) -> None:
    """Check ``engine``'s pooled connections at checkout (instead of ``pool_pre_ping``)."""
    dialect = engine.dialect

    def checked_in(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_CHECKED_IN] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get(_CHECKED_IN)
        if returned is None:  # just connected
            return
        if server_closed(dbapi_connection):
            raise InvalidatePoolError("the server closed the connection")
        if time.monotonic() - returned >= PING_AFTER_IDLE:
            try:
                dialect.do_ping(dbapi_connection)
            except dialect.loaded_dbapi.Error as error:
                raise InvalidatePoolError("the connection did not answer a ping") from error

    event.listen(engine.pool, "checkin", checked_in)  # codespell:ignore checkin
    event.listen(engine.pool, "checkout", checkout)
