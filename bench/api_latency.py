"""Latency and server CPU of cached stats API requests through the server users start.

Run: ``python -m bench.api_latency --database postgresql --mode embedded`` (or
``--database mariadb``, ``--mode redis``), after ``python -m bench.stats --keep --shapes
zipf --tag TAG`` filled the kept database ``pt_bench_stats_keep_zipf_TAG`` (``--tag``:
the same TAG). Starts ``page-tracker serve`` (the shipped defaults: ``PAGE_TRACKER_ENV=
production``, the access log off as shipped) on that database (Redis mode: a private
``redis-server``, each server under a key prefix of its own), gets a ``read`` token by
``POST /api/v1/tokens`` and then, on one kept-alive HTTP/1.1 connection from this
process on 127.0.0.1, sends ``--requests`` pairs of sequential requests, the issue's two:

- ``stats``: ``GET /api/v1/sites/ID/stats`` of the calendar year 2025 by day (UTC);
- ``pages``: ``GET .../stats/pages?limit=10`` of the year;

each with ``Authorization: Bearer``, after a warm-up (everything cached). Prints per
request kind the latency's p50 / p90 / p99 (from sending the request to its last body
byte) and, per request, the server's CPU (its process group's user + system, ``/proc``)
over the phase; then ``fresh``: ``stats`` on a new connection each time (what a curl
user sees: connect, request, close). ``--compare-bin OTHER/.venv/bin`` starts another
checkout's server too and measures both in turn, the order swapped each round
(``--rounds``). Not a test: numbers from a shared machine.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bench.flush import SERVERS
from bench.harness import BIN, SERVER_COMMANDS, Process, start_redis, start_server
from bench.serve_cpu import _cpu, _group

SECRET = "bench-" + "s" * 32
EMAIL = "bench@example.com"
PASSWORD = "bench stats password"  # noqa: S105 - a throwaway database's user (bench.stats)
YEAR = "from=2025-01-01&to=2025-12-31&tz=UTC"


def _server_cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            user, system = _cpu(pid)
        except OSError:
            continue
        total += user + system
    return total


def _request(
    connection: http.client.HTTPConnection, path: str, headers: dict[str, str]
) -> tuple[float, int]:
    began = time.perf_counter()
    connection.request("GET", path, headers=headers)
    answer = connection.getresponse()
    answer.read()
    return (time.perf_counter() - began) * 1e3, answer.status


def _token(url: str) -> str:
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    body = json.dumps({"email": EMAIL, "password": PASSWORD, "scopes": ["read"], "name": "bench"})
    connection.request(
        "POST", "/api/v1/tokens", body=body, headers={"Content-Type": "application/json"}
    )
    answer = connection.getresponse()
    data = answer.read()
    connection.close()
    if answer.status != 201:
        raise SystemExit(f"token: {answer.status} {data[:300]!r}")
    token: str = json.loads(data)["token"]
    return token


def _site(url: str, token: str) -> str:
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request("GET", "/api/v1/sites", headers={"Authorization": f"Bearer {token}"})
    answer = connection.getresponse()
    sites = json.loads(answer.read())
    connection.close()
    items = sites["items"] if isinstance(sites, dict) else sites
    return str(items[0]["id"])


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]

    return {"p50": statistics.median(ordered), "p90": at(0.90), "p99": at(0.99)}


def measure(  # noqa: PLR0917 - one run's inputs
    name: str, process: Process, url: str, token: str, site: str, requests: int
) -> dict[str, Any]:
    host, port_text = url.removeprefix("http://").split(":")
    port = int(port_text)
    headers = {"Authorization": f"Bearer {token}"}
    paths = {
        "stats": f"/api/v1/sites/{site}/stats?{YEAR}&interval=day",
        "pages": f"/api/v1/sites/{site}/stats/pages?{YEAR}&limit=10",
    }
    pids = _group(process.popen.pid)
    connection = http.client.HTTPConnection(host, port, timeout=10)
    for _ in range(20):  # warm-up: the report, the access entries, the rendered answers
        for path in paths.values():
            _request(connection, path, headers)
    load = os.getloadavg()[0]
    walls: dict[str, list[float]] = {kind: [] for kind in paths}
    cpu_before = _server_cpu(pids)
    for _ in range(requests):
        for kind, path in paths.items():
            wall, status = _request(connection, path, headers)
            if status != 200:
                raise SystemExit(f"{name}: {path} answered {status}")
            walls[kind].append(wall)
    cpu = (_server_cpu(pids) - cpu_before) * 1e3 / (2 * requests)
    connection.close()
    fresh: list[float] = []
    for _ in range(min(requests, 200)):
        began = time.perf_counter()
        single = http.client.HTTPConnection(host, port, timeout=10)
        single.request("GET", paths["stats"], headers=headers)
        single.getresponse().read()
        single.close()
        fresh.append((time.perf_counter() - began) * 1e3)
    row: dict[str, Any] = {kind: _percentiles(samples) for kind, samples in walls.items()}
    row["fresh"] = _percentiles(fresh)
    row["cpu_ms"] = cpu
    row["load"] = load
    print(
        f"{name}: "
        + "; ".join(
            f"{kind} p50 {row[kind]['p50']:.2f} p90 {row[kind]['p90']:.2f} "
            f"p99 {row[kind]['p99']:.2f} ms"
            for kind in ("stats", "pages", "fresh")
        )
        + f"; server CPU {cpu:.2f} ms a request; load {load:.1f}",
        flush=True,
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="postgresql", choices=tuple(SERVERS))
    parser.add_argument("--mode", default="embedded", choices=("embedded", "redis"))
    parser.add_argument("--tag", default="", help="bench.stats --keep --tag of the database")
    parser.add_argument("--requests", type=int, default=500, help="pairs of requests a run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--compare-bin", type=Path, help="another checkout's .venv/bin")
    args = parser.parse_args()
    name = "pt_bench_stats_keep_zipf" + (f"_{args.tag}" if args.tag else "")
    database = make_url(SERVERS[args.database]).set(database=name)
    servers = ["serve"]
    if args.compare_bin:
        SERVER_COMMANDS["before"] = (
            [str(args.compare_bin / "page-tracker"), *SERVER_COMMANDS["serve"][0][1:]],
            {},
        )
        servers.insert(0, "before")
    with tempfile.TemporaryDirectory(prefix="pt-api-latency-") as tmp:
        root = Path(tmp)
        redis_server = None
        env = {
            **os.environ,
            "PAGE_TRACKER_ENV": "production",
            "SECRET_KEY": SECRET,
            "DATABASE_URL": database.render_as_string(hide_password=False),
        }
        if args.mode == "redis":
            redis_server, redis_url = start_redis(root / "redis")
            env["REDIS_URL"] = redis_url
        running: dict[str, tuple[Process, str]] = {}
        rows: dict[str, list[dict[str, Any]]] = {server: [] for server in servers}
        try:
            for server in servers:
                folder = root / server
                (folder / "log").mkdir(parents=True)
                own = {**env, "LOG_DIR": str(folder / "log")}
                own["REDIS_KEY_PREFIX"] = f"ptlat{server}:"
                running[server] = start_server(own, folder, server)
            token = _token(running[servers[0]][1])
            site = _site(running[servers[0]][1], token)
            for number in range(args.rounds):
                order = servers if number % 2 == 0 else servers[::-1]
                for server in order:
                    process, url = running[server]
                    rows[server].append(measure(server, process, url, token, site, args.requests))
        finally:
            for process, _url in running.values():
                process.stop()
            if redis_server is not None:
                redis_server.stop()
    print(f"\n{args.database} {args.mode}: medians of {args.rounds} runs ({BIN})")
    for server, runs in rows.items():
        parts = [
            f"{kind} {key} {statistics.median(run[kind][key] for run in runs):.2f}"
            for kind in ("stats", "pages", "fresh")
            for key in ("p50", "p99")
        ]
        cpu = statistics.median(run["cpu_ms"] for run in runs)
        print(f"{server}: " + ", ".join(parts) + f", server CPU {cpu:.2f} ms a request")


if __name__ == "__main__":
    main()
