"""CPU and context switches per accepted hit of the server users start, under wrk.

Run: ``python -m bench.serve_cpu`` (``--compare-bin OTHER/.venv/bin`` for an A/B).
``bench.ingest_cpu`` calls the WSGI app from Python threads; this measures what it
leaves out: granian's side of each request (HTTP, its blocking-thread pool, the GIL
taken per request) and the kernel's (thread wake-ups, sockets). Starts ``page-tracker
serve`` (the shipped defaults) in Redis mode on a private ``redis-server`` (SQLite as
the database; no flush runs), drives ``POST /api/v1/hits`` with ``bench/hits.lua`` for
``--duration`` seconds, ``--rounds`` times (servers in turn, the order swapped each
round), and prints per accepted hit: the server's CPU (every process of its group, user
and system), its context switches (voluntary + involuntary, summed over its threads)
and the Redis server's CPU; then the medians. Not a test: numbers from a shared machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

from bench.harness import (
    BENCH,
    BIN,
    SERVER_COMMANDS,
    Process,
    page_tracker,
    start_redis,
    start_server,
    wrk,
)

SECRET = "bench-" + "s" * 32
HOST = "bench.example"
TICK = os.sysconf("SC_CLK_TCK")


def _group(root: int) -> list[int]:
    """``root`` and its children (granian's workers)."""
    found = [root]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == root:
                found.append(int(entry.name))
    return found


def _cpu(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of ``pid`` (all its threads, ended ones included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / TICK, int(fields[12]) / TICK


def _switches(pid: int) -> tuple[int, int]:
    """Voluntary and involuntary context switches of ``pid``'s living threads."""
    voluntary = involuntary = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            lines = (task / "status").read_text().splitlines()
        except OSError:
            continue
        for line in lines:
            if line.startswith("voluntary_ctxt_switches:"):
                voluntary += int(line.split()[1])
            elif line.startswith("nonvoluntary_ctxt_switches:"):
                involuntary += int(line.split()[1])
    return voluntary, involuntary


def _snapshot(pids: list[int], redis_pid: int) -> tuple[float, float, int, int, float]:
    user = system = 0.0
    voluntary = involuntary = 0
    for pid in pids:
        cpu, switches = _cpu(pid), _switches(pid)
        user, system = user + cpu[0], system + cpu[1]
        voluntary, involuntary = voluntary + switches[0], involuntary + switches[1]
    return user, system, voluntary, involuntary, sum(_cpu(redis_pid))


def measure(
    name: str, server: Process, url: str, *, redis_pid: int, site: str, duration: int
) -> dict[str, float]:
    pids = _group(server.popen.pid)
    load = os.getloadavg()[0]
    before = _snapshot(pids, redis_pid)
    result = wrk(url, BENCH / "hits.lua", duration, env={"BENCH_SITE": site, "BENCH_HOST": HOST})
    after = _snapshot(pids, redis_pid)
    hits = max(1, result.requests)
    row = {
        "req/s": result.rate,
        "p99 ms": result.p99_ms,
        "cpu us": 1e6 * (after[0] + after[1] - before[0] - before[1]) / hits,
        "sys us": 1e6 * (after[1] - before[1]) / hits,
        "vcs": (after[2] - before[2]) / hits,
        "nvcs": (after[3] - before[3]) / hits,
        "redis us": 1e6 * (after[4] - before[4]) / hits,
        "errors": float(result.errors + result.non2xx),
    }
    print(
        f"{name}: {row['req/s']:.0f}/s p99 {row['p99 ms']:.1f} ms, per hit: server CPU "
        f"{row['cpu us']:.0f} us (system {row['sys us']:.0f}), switches {row['vcs']:.2f} + "
        f"{row['nvcs']:.2f}, Redis {row['redis us']:.1f} us; errors {row['errors']:.0f}; "
        f"load {load:.1f}",
        flush=True,
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--compare-bin", type=Path, help="another checkout's .venv/bin")
    args = parser.parse_args()
    servers = ["serve"]
    if args.compare_bin:
        SERVER_COMMANDS["before"] = (
            [str(args.compare_bin / "page-tracker"), *SERVER_COMMANDS["serve"][0][1:]],
            {},
        )
        servers.append("before")
    with tempfile.TemporaryDirectory(prefix="pt-serve-cpu-") as tmp:
        root = Path(tmp)
        redis_server, redis_url = start_redis(root / "redis")
        env = {
            **os.environ,
            "PAGE_TRACKER_ENV": "production",
            "SECRET_KEY": SECRET,
            "LOG_DIR": str(root / "log"),
            "LOG_LEVEL": "WARNING",
            "INGEST_RATE_LIMIT": "off",  # wrk sends every hit from 127.0.0.1
            "DATABASE_URL": f"sqlite:///{root / 'pt.sqlite3'}",
            "REDIS_URL": redis_url,
        }
        running: dict[str, tuple[Process, str]] = {}
        try:
            page_tracker(["db", "upgrade"], env, root)
            site = page_tracker(["sites", "create", HOST], env, root).split()[-1]
            for name in servers:
                running[name] = start_server(env, root, name)
                wrk(
                    running[name][1],
                    BENCH / "hits.lua",
                    4,  # warm-up: granian grows its thread pool, caches fill
                    env={"BENCH_SITE": site, "BENCH_HOST": HOST},
                )
            rows: dict[str, list[dict[str, float]]] = {name: [] for name in servers}
            for number in range(args.rounds):
                order = servers if number % 2 == 0 else servers[::-1]
                for name in order:
                    process, url = running[name]
                    rows[name].append(
                        measure(
                            name,
                            process,
                            url,
                            redis_pid=redis_server.popen.pid,
                            site=site,
                            duration=args.duration,
                        )
                    )
        finally:
            for process, _url in running.values():
                process.stop()
            redis_server.stop()
    print(f"\nmedians of {args.rounds} runs of {args.duration} s ({BIN})")
    for name, runs in rows.items():
        medians = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        print(f"{name}: " + ", ".join(f"{key} {value:.2f}" for key, value in medians.items()))


if __name__ == "__main__":
    main()
