"""256 readers' browsers ask one server process for their Busuanzi counters at the same
moment (issue 13): every one is answered with counters, none waits out the pool.

The server is the one ``make run`` / ``page-tracker serve`` starts (its defaults: granian),
on embedded SQLite and in Redis mode. The burst hits a
site the process has not looked up yet, so every request misses the site cache at once:
before the pool discipline (one pooled connection per request at most, a pool sized from
the threads, a short pool timeout) this burst held every pooled connection and waited out
the 30 s pool timeout.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.burst import BROWSER, Answer, burst, get_request
from tests.e2e.server import Server
from tests.services import RedisServer

BURST = 256
# The requirement (issue 13) is an answer within one second, measured by the bench
# (bench/README.md). A test on a shared CI machine asserts no wall-clock time: it gives
# each request less than the old 30 s pool timeout (the stall this guards against: main
# answered after that timeout with gunicorn, or not at all with granian) and requires
# every answer to carry counters, which no request waiting out a pool could.
WAIT_SECONDS = 20.0
ANSWER = re.compile(
    rb'try\{cb\(\{"site_uv":\d+,"page_pv":(\d+),"version":2\.4,"site_pv":(\d+)\}\);\}catch\(e\)\{\}'
)
REDIS_MODE = {"sqlite": False, "redis": True}


@pytest.fixture(params=sorted(REDIS_MODE))
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    redis_mode = REDIS_MODE[request.param]
    env = {
        "PAGE_TRACKER_ENV": "production",
        "SECRET_KEY": "e2e-" + "k" * 32,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'pt.sqlite3'}",
    }
    redis_server = RedisServer(tmp_path / "redis").start() if redis_mode else None
    if redis_server is not None:
        env["REDIS_URL"] = redis_server.url
    local = Server(tmp_path, env, workers=None)
    try:
        assert local.run_cli("db", "upgrade").returncode == 0
        for host in ("warm.example.com", "burst.example.com"):
            assert local.run_cli("sites", "create", host, "--public-counters").returncode == 0
        yield local.start()
    finally:
        local.stop()
        if redis_server is not None:
            redis_server.kill()


def busuanzi_requests(port: int, host: str, count: int) -> list[bytes]:
    return [
        get_request(
            port,
            "/busuanzi?jsonpCallback=cb",
            {"Referer": f"https://{host}/post-{n % 16}", "User-Agent": BROWSER},
        )
        for n in range(count)
    ]


def summary(answers: list[Answer]) -> str:
    statuses = Counter(answer.status for answer in answers)
    slowest = max(answer.seconds for answer in answers)
    bodies = Counter(answer.body[:60] for answer in answers).most_common(2)
    return f"statuses {dict(statuses)}, slowest {slowest:.2f} s, bodies {bodies}"


@pytest.mark.timeout(180)
def test_should_answer_every_one_of_256_concurrent_busuanzi_requests_promptly(
    server: Server,
) -> None:
    # Given a server whose code paths ran once (another site: the burst's site is not
    # in its site cache yet)
    warm = burst(server.port, busuanzi_requests(server.port, "warm.example.com", 32))
    assert all(answer.status == 200 for answer in warm), summary(warm)

    # When 256 readers ask for their counters at the same moment
    answers = burst(
        server.port,
        busuanzi_requests(server.port, "burst.example.com", BURST),
        wait=WAIT_SECONDS,
    )

    # Then every one gets its counters (not "counters unavailable"), promptly
    assert all(answer.status == 200 and ANSWER.fullmatch(answer.body) for answer in answers), (
        summary(answers)
    )
    # and each was counted: the site's total reached the burst's size
    site_totals = [int(ANSWER.fullmatch(answer.body)[2]) for answer in answers]  # type: ignore[index]
    assert max(site_totals) >= BURST
