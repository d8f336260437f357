"""CPU per batch of Redis mode's writer alone: ``RedisSink.submit`` and the Redis server.

Run: ``python -m bench.sink_cpu`` (any checkout's interpreter on this file, for an A/B).
Starts a private ``redis-server`` on a free port (``--aof``: with ``appendonly yes``,
``appendfsync everysec``, as compose runs it), then writes ``--batches`` batches of
``--size`` page views through one :class:`~page_tracker.buffer.redis_sink.RedisSink`
(live visitors on) from one thread, as the group-commit writer does: 50 pages, 1 000
readers, a desktop browser. Prints the client's CPU per batch (this process: encoding,
the script's arguments, packing, the round trip's system calls and the replies), the
Redis server's (``/proc``) and its ``INFO commandstats`` of the phase (calls and
microseconds per command, the script's own commands included), then checks that the
stream's batches and ``pending`` hold exactly the written views.

No group commit, no HTTP, no threads: the writer's share of bench.ingest_cpu's
per-hit figure, with far less noise (one thread, a fixed batch size).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis

from bench.harness import Process, start_redis
from page_tracker.buffer.batch_format import decode_views
from page_tracker.buffer.live import RedisLiveVisitors
from page_tracker.buffer.redis_sink import RedisSink
from page_tracker.enrich import Enrichment
from page_tracker.stats.pageview import PageView

PREFIX = "pt:"
SITE = "benchsite001"


def _views(batch: int, size: int) -> list[PageView]:
    """Batch ``batch``: ``size`` views of 50 pages by 1 000 readers (a reader's hashes
    are the same in every batch, so visitor keys see old and new members)."""
    now = datetime.now(UTC)
    views = []
    for n in range(batch * size, (batch + 1) * size):
        reader = str(n % 1000).encode()
        views.append(
            PageView(
                site_id=SITE,
                path=f"/p{n % 50}",
                hostname="example.com",
                timestamp=now + timedelta(microseconds=n),
                visitor=hashlib.blake2b(b"d" + reader, digest_size=16).digest(),
                lifetime_visitor=hashlib.blake2b(b"l" + reader, digest_size=16).digest(),
                title=f"Page {n % 50}",
                enrichment=Enrichment(
                    browser="Chrome",
                    browser_version="120",
                    os="Linux",
                    device="desktop",
                    country="DE",
                ),
            )
        )
    return views


def _server_cpu(server: Process) -> float:
    stat = Path(f"/proc/{server.popen.pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _commandstats(client: redis.Redis) -> dict[str, tuple[int, int]]:
    stats: dict[str, tuple[int, int]] = {}
    for name, value in client.info("commandstats").items():
        stats[name.removeprefix("cmdstat_")] = (int(value["calls"]), int(value["usec"]))
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=2000)
    parser.add_argument("--size", type=int, default=26, help="views a batch (26: 64 threads)")
    parser.add_argument("--aof", action="store_true", help="appendonly yes, everysec")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="pt-bench-sink-"))
    server, url = start_redis(folder, "everysec" if args.aof else None)
    try:
        client = redis.Redis.from_url(url)
        sink = RedisSink(client, PREFIX, live=RedisLiveVisitors(client, PREFIX))
        batches = [_views(n, args.size) for n in range(args.batches)]
        for views in batches[:50]:  # warm: scripts loaded, visitor keys filled
            sink.submit(views)
        client.config_resetstat()
        cpu, wall, server_cpu = time.process_time(), time.perf_counter(), _server_cpu(server)
        for views in batches[50:]:
            sink.submit(views)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        server_cpu = _server_cpu(server) - server_cpu
        stats = _commandstats(client)
        measured = args.batches - 50
        entries = client.xrange(f"{PREFIX}hits")
        stored = sum(len(decode_views(fields[b"v"])) for _, fields in entries)
        pending = int(client.hget(f"{PREFIX}pending", f"s:{SITE}") or 0)
        memory = client.memory_usage(f"{PREFIX}hits") or 0
        client.close()
        expected = args.batches * args.size
        if not stored == pending == expected:
            raise SystemExit(f"LOST OR EXTRA VIEWS: stream {stored}, pending {pending}")
        print(
            f"batches {measured} of {args.size}: client_us_per_batch "
            f"{cpu / measured * 1e6:.0f} redis_us_per_batch {server_cpu / measured * 1e6:.0f} "
            f"wall_us_per_batch {wall / measured * 1e6:.0f} stream_bytes_per_view "
            f"{memory / expected:.0f} (stream and pending exact: {stored})"
        )
        for name, (calls, usec) in sorted(stats.items(), key=lambda item: -item[1][1]):
            print(
                f"  {name:20s} calls/batch {calls / measured:7.2f} "
                f"us/batch {usec / measured:7.1f} us/call {usec / max(calls, 1):6.2f}"
            )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
