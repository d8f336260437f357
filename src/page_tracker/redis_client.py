"""The app's Redis client (Redis mode only: ``REDIS_URL`` set)."""

from __future__ import annotations

import redis

from page_tracker.extensions import Extension

REDIS: Extension[redis.Redis] = Extension(
    "page_tracker.redis", "the Redis client of Redis mode (absent in embedded mode)"
)


def make_redis_client(url: str) -> redis.Redis:
    """A Redis client with short timeouts: a slow Redis must not hang requests."""
    return redis.Redis.from_url(
        url, socket_timeout=2, socket_connect_timeout=2, health_check_interval=30
    )
