"""Ingest and counter benchmark: wrk against every route a blog page makes, in both modes,
nginx as the ceiling.

Run: ``make bench`` (or ``.venv/bin/python -m bench.ingest --help``). Everything runs on
127.0.0.1 in a temporary directory: nginx answering a static 204, then page-tracker in
embedded SQLite mode and in Redis mode (a private redis-server; a throwaway PostgreSQL
database for the flush), started with the command lines users start
(``harness.SERVER_COMMANDS``: ``page-tracker serve`` as ``make run``, the image and
compose run it; other entries get the A/B rows). Each row
(``POST /api/v1/hits``, ``/count.gif``, Busuanzi at 8/64/256 connections, counters
JSON, badge) is driven by wrk for ``--duration`` seconds, ``--repeat`` times,
interleaved; medians are printed as a Markdown table with their ratio to the nginx
ceiling of the same run. Afterwards the Redis-mode backlog is flushed and every run
checks that the database holds exactly the views that were answered. Not a test:
numbers from a shared 2-core machine are noisy.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.harness import (
    BENCH,
    BIN,
    SERVER_COMMANDS,
    Process,
    WrkResult,
    page_tracker,
    server_command,
    start_nginx,
    start_redis,
    start_server,
    wrk,
)
from page_tracker.buffer.redis_keys import RedisKeys

SECRET = "bench-" + "s" * 32
HOST = "bench.example"
PREFIX = "pt:"  # REDIS_KEY_PREFIX's default


def median_row(results: list[WrkResult]) -> dict[str, Any]:
    return {
        "req/s": round(statistics.median(r.rate for r in results)),
        "p50 ms": round(statistics.median(r.p50_ms for r in results), 2),
        "p99 ms": round(statistics.median(r.p99_ms for r in results), 2),
        "errors": sum(r.errors for r in results),
        "runs": len(results),
    }


def counted(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(
                    text("SELECT COALESCE(SUM(pageviews), 0) FROM stat_totals WHERE path_id = 0")
                ).scalar_one()
            )
    finally:
        engine.dispose()


def create_postgres_database(server_url: str, name: str) -> str:
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(server_url: str, name: str) -> None:
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        )
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@dataclass(frozen=True)
class Route:
    """One row of the table: a request shape at a number of connections."""

    label: str
    script: str
    route: str  # BENCH_ROUTE of reads.lua; "" for hits.lua
    connections: int
    counts: bool  # every answered request records one page view


def routes(connections: int) -> list[Route]:
    """The rows of issue 13 item 5, in the order they run."""
    return [
        Route("`POST /api/v1/hits`", "hits.lua", "", connections, counts=True),
        Route("`GET /count.gif`", "reads.lua", "pixel", connections, counts=True),
        *(
            Route("Busuanzi GET", "reads.lua", "busuanzi", n, counts=True)
            for n in (8, connections, 256)
        ),
        Route("counters JSON", "reads.lua", "counters", connections, counts=False),
        Route("badge SVG", "reads.lua", "badge", connections, counts=False),
    ]


def compared_routes(connections: int) -> list[Route]:
    """What the server A/B measures on every server (issue 13 item 4)."""
    return [
        r
        for r in routes(connections)
        if r.counts and (r.route != "busuanzi" or r.connections == connections)
    ]


def run_mode(
    name: str, env: dict[str, str], workdir: Path, args: argparse.Namespace
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Serve one configuration with every server of ``--servers`` at once (each idle while
    another is driven), drive the routes, interleaving servers and repeats; then check
    that the database got exactly the views that were answered."""
    page_tracker(["db", "upgrade"], env, workdir)
    created = page_tracker(["sites", "create", HOST, "--public-counters"], env, workdir)
    site = created.split()[-1]
    servers = {
        server: start_server(env, workdir, server, extra_args(server, args))
        for server in args.servers.split(",")
    }
    flushing = start_flushing(env, workdir) if "REDIS_URL" in env and args.worker else []
    plan = {
        server: routes(args.connections) if server == "serve" else compared_routes(args.connections)
        for server in servers
    }
    complete = float("nan")
    try:
        results, sent, in_flight = measure(name, servers, plan, site, args)
    finally:
        for process, _url in servers.values():
            process.stop()
        if flushing:
            try:
                complete = wait_until_flushed(env["REDIS_URL"])
            finally:
                for process in flushing:
                    process.stop()
    check: dict[str, Any] = {"sent": sent}
    if flushing:
        check["complete s"] = complete
    if "REDIS_URL" in env:
        started = time.monotonic()
        out = page_tracker(["flush", "--max-seconds", "600"], env, workdir)
        check["flush s"] = round(time.monotonic() - started, 1)
        print(f"  {name}: {out.strip()}", flush=True)
    check["in flight (max)"] = in_flight
    rows = [
        {"server": server, "route": route, **median_row(runs)}
        for (server, route), runs in results.items()
    ]
    return rows, check


def measure(
    name: str,
    servers: dict[str, tuple[Process, str]],
    plan: dict[str, list[Route]],
    site: str,
    args: argparse.Namespace,
) -> tuple[dict[tuple[str, Route], list[WrkResult]], int, int]:
    """Warm every route up, then run the repeats interleaved (repeat by repeat, server by
    server) so a change in the machine's load touches every row alike. Returns the runs,
    the views wrk saw answered and how many requests could have been in flight at the
    end of the runs (answered and counted by the server, not seen by wrk)."""
    results: dict[tuple[str, Route], list[WrkResult]] = {}
    sent = in_flight = 0
    for server, (_process, url) in servers.items():
        for route in plan[server]:  # warm-up: caches, connections, regexes, pools
            warm = drive(url, route, 2, site)
            if route.counts:
                sent += warm.requests
                in_flight += route.connections
    for _ in range(args.repeat):
        for server, (_process, url) in servers.items():
            for route in plan[server]:
                result = drive(url, route, args.duration, site)
                results.setdefault((server, route), []).append(result)
                if route.counts:
                    sent += result.requests
                    in_flight += route.connections
                print(f"  {name} {server} {route.label} c{route.connections}: {result.row()}")
    return results, sent, in_flight


def extra_args(server: str, args: argparse.Namespace) -> list[str]:
    return args.serve_args.split() if server == "serve" else []


def drive(url: str, route: Route, duration: int, site: str) -> WrkResult:
    return wrk(
        url,
        BENCH / route.script,
        duration,
        connections=route.connections,
        env={"BENCH_SITE": site, "BENCH_HOST": HOST, "BENCH_ROUTE": route.route},
    )


def start_flushing(env: dict[str, str], workdir: Path) -> list[Process]:
    """The Celery worker and beat of a Redis-mode deployment, flushing during the load."""
    return [
        Process([str(BIN / "page-tracker"), *args], workdir / log, env=env, cwd=workdir)
        for args, log in [
            (["worker", "--concurrency", "1"], "worker.out"),
            (["beat", "--schedule-file", str(workdir / "beat-schedule")], "beat.out"),
        ]
    ]


def wait_until_flushed(redis_url: str, limit: float = 120.0) -> float:
    """Seconds from now until the worker emptied the stream (issue 3: within 10 s).

    The stream holds every acknowledged, not yet flushed batch; entries are deleted
    once their hits are committed to the database.
    """
    client = redis.Redis.from_url(redis_url)
    started = time.monotonic()
    try:
        while time.monotonic() - started < limit:
            if client.xlen(RedisKeys(PREFIX).stream) == 0:
                return round(time.monotonic() - started, 1)
            time.sleep(0.1)
    finally:
        client.close()
    print(f"  redis: the worker did not empty the stream within {limit} s", flush=True)
    return float("nan")


def run_nginx(root: Path, args: argparse.Namespace) -> dict[str, Any]:
    nginx, url = start_nginx(root / "nginx")
    try:
        runs = [
            wrk(url, BENCH / "static204.lua", args.duration, connections=args.connections)
            for _ in range(args.repeat)
        ]
    finally:
        nginx.stop()
    row = median_row(runs)
    print(f"  nginx: {row}", flush=True)
    return row


def percent(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f} %" if whole else ""


def print_table(
    nginx: dict[str, Any] | None,
    modes: dict[str, tuple[list[dict[str, Any]], dict[str, Any]]],
    args: argparse.Namespace,
) -> None:
    ceiling = float(nginx["req/s"]) if nginx else 0.0
    print(
        f"\nwrk -t2 -d{args.duration}s --latency, medians of {args.repeat} runs; servers: "
        + "; ".join(
            " ".join(server_command(name, 0, extra_args(name, args))[0]).replace(str(BIN) + "/", "")
            for name in args.servers.split(",")
        )
        + "\n"
    )
    columns = ["req/s", "% of nginx", "% of count.gif", "p50 ms", "p99 ms", "errors", "runs"]
    print("| mode | server | request | connections | " + " | ".join(columns) + " |")
    print("|---|---|---|---|" + "---|" * len(columns))
    if nginx:
        cells = [nginx["req/s"], "100 %", "", nginx["p50 ms"], nginx["p99 ms"], nginx["errors"]]
        print(
            f"| - | nginx static 204 (ceiling) | POST | {args.connections} | "
            + " | ".join(str(c) for c in [*cells, nginx["runs"]])
            + " |"
        )
    for mode, (rows, _check) in modes.items():
        pixel = {
            row["server"]: float(row["req/s"]) for row in rows if row["route"].route == "pixel"
        }
        for row in rows:
            route: Route = row["route"]
            of_pixel = percent(row["req/s"], pixel.get(row["server"], 0.0))
            cells = [
                row["req/s"],
                percent(row["req/s"], ceiling),
                of_pixel if route.route == "busuanzi" else "",
                row["p50 ms"],
                row["p99 ms"],
                row["errors"],
                row["runs"],
            ]
            print(
                f"| {mode} | {row['server']} | {route.label} | {route.connections} | "
                + " | ".join(str(c) for c in cells)
                + " |"
            )
    print(
        "\n| mode | views answered (wrk) | counted | difference (<= requests in flight) "
        "| exact | complete s | flush s |"
    )
    print("|---|---|---|---|---|---|---|")
    for mode, (_rows, check) in modes.items():
        difference = check["counted"] - check["sent"]
        exact = 0 <= difference <= check["in flight (max)"]
        print(
            f"| {mode} | {check['sent']} | {check['counted']} | {difference} "
            f"(<= {check['in flight (max)']}) | {'yes' if exact else '**NO**'} | "
            f"{check.get('complete s', '')} | {check.get('flush s', '')} |"
        )


def add_variants(parser: argparse.ArgumentParser, variants: list[str]) -> str:
    """Register each ``NAME=ARGS`` of ``--variant`` as a server; the names to add to
    ``--servers`` (",NAME" each)."""
    names = ""
    for variant in variants:
        name, _, extra = variant.partition("=")
        if not name or name in SERVER_COMMANDS:
            parser.error(f"--variant {variant!r}: give a new NAME=ARGS")
        SERVER_COMMANDS[name] = ([*SERVER_COMMANDS["serve"][0], *extra.split()], {})
        names += f",{name}"
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per row (interleaved)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument(
        "--servers",
        default="serve",
        help="servers of bench.harness.SERVER_COMMANDS, comma-separated; serve: "
        "`page-tracker serve` as make run/the image/compose start it (all rows), any "
        "other: the A/B rows (hits, count.gif, Busuanzi at --connections)",
    )
    parser.add_argument(
        "--serve-args",
        default="",
        help="extra `page-tracker serve` options for an experiment, e.g. '--workers 3'",
    )
    parser.add_argument(
        "--compare-bin",
        type=Path,
        help="A/B against another checkout: also start ITS_VENV/bin/page-tracker serve "
        "(server 'before'; A/B rows) next to this one, in the same run",
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=ARGS",
        help="also start `page-tracker serve ARGS` as server NAME (A/B rows), e.g. "
        "'w3t16=--workers 3 --threads 16' to compare topologies in one run (repeatable)",
    )
    parser.add_argument("--modes", default="nginx,embedded,redis")
    parser.add_argument(
        "--no-worker",
        dest="worker",
        action="store_false",
        help="Redis mode without a Celery worker and beat flushing during the load",
    )
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    if args.compare_bin:
        SERVER_COMMANDS["before"] = (
            [str(args.compare_bin / "page-tracker"), *SERVER_COMMANDS["serve"][0][1:]],
            {},
        )
        args.servers += ",before"
    args.servers += add_variants(parser, args.variant)
    modes = args.modes.split(",")
    nginx: dict[str, Any] | None = None
    measured: dict[str, tuple[list[dict[str, Any]], dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="pt-bench-") as tmp:
        root = Path(tmp)
        base = {
            **os.environ,
            "PAGE_TRACKER_ENV": "production",
            "SECRET_KEY": SECRET,
            "LOG_DIR": str(root / "log"),
            "LOG_LEVEL": "WARNING",
            # wrk sends every hit from one address: the per-address limit would refuse
            # all but the first 1 200 a minute (and make refused hits look fast).
            "INGEST_RATE_LIMIT": "off",
        }
        if "nginx" in modes:
            nginx = run_nginx(root, args)
        if "embedded" in modes:
            workdir = root / "embedded"
            workdir.mkdir()
            database = f"sqlite:///{workdir / 'pt.sqlite3'}"
            env = {**base, "DATABASE_URL": database}
            rows, check = run_mode("embedded", env, workdir, args)
            check["counted"] = counted(database)
            measured["embedded (SQLite)"] = (rows, check)
        if "redis" in modes:
            workdir = root / "redis"
            workdir.mkdir()
            redis_server, redis_url = start_redis(workdir / "redis-data")
            name = f"pt_bench_{os.getpid()}"
            database = create_postgres_database(args.postgres_url, name)
            try:
                env = {**base, "DATABASE_URL": database, "REDIS_URL": redis_url}
                rows, check = run_mode("redis", env, workdir, args)
                check["counted"] = counted(database)
                measured["Redis (flush to PostgreSQL)"] = (rows, check)
            finally:
                redis_server.stop()
                drop_postgres_database(args.postgres_url, name)
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"\nload average at the end (1, 5, 15 min): {load} on {os.cpu_count()} cores")
    print_table(nginx, measured, args)


if __name__ == "__main__":
    main()
