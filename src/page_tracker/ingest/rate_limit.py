"""The per-address ingest limit (``INGEST_RATE_LIMIT``): works without nginx.

A hit beyond the limit gets the normal answer but is not counted (reason
``rate-limited``). Windows are fixed (``N`` hits per period, counted from the period's
start), per reader address - an IPv6 address by its /64, which one subscriber usually
holds whole.

**Cost on the hot path.** Every process counts the addresses it sees in memory: a dict
that is replaced whole when a window ends (no lock: a lost increment between two
threads only lets a hit more through). Embedded mode stops there. In Redis mode an
address becomes *hot* in a process once that process alone saw more than a tenth of
the limit in the window; only hot addresses are counted in Redis (``INCRBY`` +
``EXPIRE`` in one round trip, the local hits so far added at once), so a real reader
never costs a Redis round trip, and the limit holds across processes to within a tenth
of it per process. Redis keys hold a keyed hash of the address, never the address.
Redis down: the process's own count decides, and Redis is not asked again for
:data:`REDIS_PAUSE` seconds (a hot address must not pay a failing connect per hit).
"""

from __future__ import annotations

import hashlib
import socket
from typing import Final, Protocol

import redis

from page_tracker.extensions import Extension
from page_tracker.settings import RateLimit, Settings

RATE_LIMITED: Final = "rate-limited"
# Past this many addresses in one window a process forgets its counts (fail open): the
# memory of a flood of spoofed addresses stays bounded.
MAX_TRACKED = 200_000
REDIS_PAUSE = 10.0


class SharedCounter(Protocol):
    def add(self, key: str, window: int, amount: int, ttl: int) -> int:
        """Add ``amount`` to the count of ``key`` in ``window``; the new total."""
        ...


class RedisWindowCounter:
    """Counts under ``{prefix}rl:{window}:{hash}``, expiring with their window."""

    def __init__(self, client: redis.Redis, prefix: str, secret: bytes) -> None:
        self.client = client
        self.prefix = prefix
        self.secret = secret

    def add(self, key: str, window: int, amount: int, ttl: int) -> int:
        digest = hashlib.blake2b(key.encode(), digest_size=12, key=self.secret).hexdigest()
        name = f"{self.prefix}rl:{window}:{digest}"
        pipe = self.client.pipeline(transaction=False)
        pipe.incrby(name, amount)
        pipe.expire(name, ttl)
        total, _ = pipe.execute()
        return int(total)


def address_key(address: str) -> str:
    """The unit a limit applies to: an IPv4 address, or an IPv6 address's /64."""
    if ":" not in address:
        return address
    try:
        packed = socket.inet_pton(socket.AF_INET6, address)  # ~50x faster than ipaddress
    except OSError:
        return address
    return f"{packed[:8].hex()}/64"


class IngestLimiter:
    """Decides whether a hit from ``address`` may still count in the current window."""

    def __init__(self, limit: RateLimit, shared: SharedCounter | None = None) -> None:
        self.limit = limit
        self.shared = shared
        self.local_share = max(1, limit.hits // 10)
        # (window, counts, hits already added to the shared counter): replaced whole.
        self._state: tuple[int, dict[str, int], dict[str, int]] = (-1, {}, {})
        self._shared_paused_until = 0.0

    def allow(self, address: str, now: float) -> bool:
        window = int(now // self.limit.seconds)
        current, counts, reported = self._state
        if current != window or len(counts) > MAX_TRACKED:
            counts, reported = {}, {}
            self._state = (window, counts, reported)
        key = address_key(address)
        count = counts.get(key, 0) + 1
        counts[key] = count
        if self.shared is None or count <= self.local_share or now < self._shared_paused_until:
            return count <= self.limit.hits
        unreported = count - reported.get(key, 0)
        reported[key] = count
        try:
            total = self.shared.add(key, window, unreported, self.limit.seconds + 1)
        except redis.RedisError:
            self._shared_paused_until = now + REDIS_PAUSE
            return count <= self.limit.hits
        return total <= self.limit.hits


def make_limiter(settings: Settings, client: redis.Redis | None) -> IngestLimiter | None:
    """The limiter ``settings`` ask for (Redis-backed when there is a ``client``), or
    ``None`` when ``INGEST_RATE_LIMIT`` is off."""
    limit = settings.rate_limit
    if limit is None:
        return None
    if client is None:
        return IngestLimiter(limit)
    secret = hashlib.blake2b(
        settings.secret_key.get_secret_value().encode(), digest_size=32, person=b"pt-ratelimit"
    ).digest()
    return IngestLimiter(limit, RedisWindowCounter(client, settings.redis_key_prefix, secret))


LIMITER: Extension[IngestLimiter] = Extension(
    "page_tracker.ingest_limiter", "the per-address ingest limit (INGEST_RATE_LIMIT)"
)
