"""``page-tracker stats SITE_ID``: what a site owner sees after readers came by."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from tests.e2e.server import Server

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


@pytest.fixture
def tracker(tmp_path: Path) -> Server:
    server = Server(tmp_path, {"PAGE_TRACKER_ENV": "test"}, workers=1)
    assert server.run_cli("db", "upgrade").returncode == 0
    return server


def test_should_show_totals_days_and_top_pages(tracker: Server) -> None:
    site = tracker.run_cli("sites", "create", "blog.example").stdout.split()[-1]
    tracker.start()
    try:
        for path, agent in [("/a", FIREFOX), ("/a", CHROME), ("/b", FIREFOX)]:
            answer = requests.post(
                f"{tracker.url}/api/v1/hits",
                json={"site": site, "url": f"https://blog.example{path}"},
                headers={"User-Agent": agent},
                timeout=10,
            )
            assert answer.headers["X-Page-Tracker-Reason"] == "accepted"
    finally:
        tracker.stop()

    shown = tracker.run_cli("stats", site, "--days", "3")

    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == f"blog.example ({site}): 3 page views, 2 visitors all time"
    today = datetime.now(UTC).date().isoformat()
    days = [line.split() for line in lines[2:6]]
    assert days[0] == ["day", "views", "visitors"]
    assert days[-1] == [today, "3", "2"]
    assert [row[1:] for row in days[1:-1]] == [["0", "0"], ["0", "0"]]
    assert [line.split() for line in lines[-3:]] == [
        ["top", "pages", "views", "visitors"],
        ["/a", "2", "2"],
        ["/b", "1", "1"],
    ]
    with_entries = tracker.run_cli("stats", site, "--days", "3", "--entry-pages")
    assert with_entries.returncode == 0, with_entries.stderr
    # both visitors entered on /a (their first page today)
    assert [line.split() for line in with_entries.stdout.splitlines()[-2:]] == [
        ["entry", "pages", "entrances", "visitors"],
        ["/a", "2", "2"],
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("stats", "nosuchsite00"), "no site 'nosuchsite00'"),
        (("stats", "nosuchsite00", "--days", "0"), "Invalid value for '--days'"),
    ],
)
def test_should_fail_with_one_line(tracker: Server, args: tuple[str, ...], message: str) -> None:
    result = tracker.run_cli(*args)
    assert result.returncode != 0
    assert message in result.stderr
    assert result.stdout == ""
