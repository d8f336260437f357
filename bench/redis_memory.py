"""Redis memory benchmark: bytes per pending (not yet flushed) hit, and per visitor key,
to size ``maxmemory`` (README "Redis memory").

Run: ``make bench-redis-memory`` (or ``.venv/bin/python -m bench.redis_memory``). Writes
``--hits`` page views into a private redis-server through ``RedisSink`` with no flush, in
batches of 1 (light load: one stream entry per hit) and of 64 (the group commit's
typical batch under load), and reads ``MEMORY USAGE`` of the stream, the ``pending`` hash
and the visitor keys. Then it measures one page's visitor key below and above the 1 000
visitors at which it turns into a HyperLogLog.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

import redis

from bench import flush as flush_bench
from bench.harness import start_redis
from page_tracker.buffer.redis_keys import RedisKeys
from page_tracker.buffer.redis_sink import RedisSink
from page_tracker.stats.pageview import PageView

PREFIX = "pt:"
SITE = "abcdefabcdef"


def views(count: int, pages: int, visitors: int, start: int = 0) -> list[PageView]:
    """Realistic views: a 30-character path, a referrer, a full enrichment."""
    return flush_bench.views(
        SITE,
        count,
        start,
        pages=pages,
        visitors=visitors,
        path="/posts/2026/12/some-post-{page:05d}/",
        hostname="blog.example.com",
    )


def usage(client: redis.Redis, pattern: str) -> int:
    total = 0
    for key in client.scan_iter(pattern):
        used: Any = client.memory_usage(key, samples=0)
        total += int(used or 0)
    return total


def pending_cost(url: str, hits: int, batch: int, pages: int) -> dict[str, float]:
    client = redis.Redis.from_url(url)
    client.flushdb()  # the benchmark's own private server
    sink = RedisSink(client, PREFIX)
    made = views(hits, pages, visitors=hits)
    for start in range(0, hits, batch):
        sink.submit(made[start : start + batch])
    keys = RedisKeys(PREFIX)
    stream = usage(client, keys.stream)
    pending = usage(client, keys.pending)
    visitors = usage(client, f"{PREFIX}uv:*")
    client.close()
    return {
        "batch": batch,
        "stream B/hit": stream / hits,
        "pending B/hit": pending / hits,
        "backlog B/hit": (stream + pending) / hits,
        "visitor keys KiB": visitors / 1024,
    }


def visitor_key_cost(url: str) -> dict[int, int]:
    """Bytes of one page's visitor key at several visitor counts."""
    client = redis.Redis.from_url(url)
    sink = RedisSink(client, PREFIX)
    sizes = {}
    for count in (100, 999, 1000, 20_000):
        client.flushdb()
        for start in range(0, count, 500):
            sink.submit(views(min(500, count - start), pages=1, visitors=count, start=start))
        used: Any = client.memory_usage(RedisKeys(PREFIX).visitors(SITE, views(1, 1, 1)[0].path))
        sizes[count] = int(used or 0)
    client.close()
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hits", type=int, default=10_000)
    parser.add_argument("--pages", type=int, default=500)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        process, url = start_redis(Path(workdir) / "redis")
        try:
            print(f"{options.hits} pending hits on {options.pages} pages, every visitor new")
            for batch in (1, 64):
                row = pending_cost(url, options.hits, batch, options.pages)
                print("  " + ", ".join(f"{k} {v:.0f}" for k, v in row.items()))
            print("one page's visitor key (bytes) by visitors:")
            for count, size in visitor_key_cost(url).items():
                print(f"  {count:>7}: {size}")
        finally:
            process.stop()


if __name__ == "__main__":
    main()
