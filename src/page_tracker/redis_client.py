"""The app's Redis client (Redis mode only: ``REDIS_URL`` set), and the reads a request
sends along with another round trip (:func:`read_along`)."""

from __future__ import annotations

from typing import Any, Final

import redis
from flask import g, has_request_context

from page_tracker.extensions import Extension

REDIS: Extension[redis.Redis] = Extension(
    "page_tracker.redis", "the Redis client of Redis mode (absent in embedded mode)"
)


def make_redis_client(url: str) -> redis.Redis:
    """A Redis client with short timeouts: a slow Redis must not hang requests."""
    return redis.Redis.from_url(
        url, socket_timeout=2, socket_connect_timeout=2, health_check_interval=30
    )


# Reads a request will make, sent along with its first round trip that carries them
# (the access epoch's read in a cached stats request): one round trip, not two. Kept in
# the request's ``g``: ``(key, field)`` -> the value read, or _WANTED until then.
_ALONG = "redis_read_along"
_WANTED: Final = object()


def read_along(key: str, field: str) -> None:
    """Ask for ``HGET key field`` to ride with the request's next round trip that takes
    riders (:func:`riders`); :func:`carried` then hands back its answer."""
    if has_request_context():
        g.setdefault(_ALONG, {})[(key, field)] = _WANTED


def riders() -> list[tuple[str, str]]:
    """The reads asked for and not sent yet (a sender adds them to its pipeline, as
    ``HGET``s, and passes their answers to :func:`deliver`)."""
    wanted: dict[tuple[str, str], Any] = g.get(_ALONG, {}) if has_request_context() else {}
    return [pair for pair, value in wanted.items() if value is _WANTED]


def deliver(pairs: list[tuple[str, str]], values: list[Any]) -> None:
    wanted: dict[tuple[str, str], Any] = g.setdefault(_ALONG, {})
    wanted.update(zip(pairs, values, strict=True))


def carried(key: str, field: str) -> tuple[bool, Any]:
    """``(True, value)`` when ``HGET key field`` rode along this request (once: the
    answer is handed out a single time), else ``(False, None)``: read it yourself."""
    wanted: dict[tuple[str, str], Any] = g.get(_ALONG, {}) if has_request_context() else {}
    value = wanted.get((key, field), _WANTED)
    if value is _WANTED:
        return False, None
    del wanted[(key, field)]
    return True, value
