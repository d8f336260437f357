"""Operator commands print readers' data (paths, hosts) with control characters escaped:
an ESC or OSC sequence in a stored path never reaches the operator's terminal raw."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask import Flask

from page_tracker.db import get_session
from page_tracker.sites.cli import sites
from page_tracker.sites.services import create_site
from page_tracker.stats import rollup
from page_tracker.stats.cli import stats
from page_tracker.stats.pageview import PageView

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

# Clears the screen, sets the window title, plants a hyperlink, reverses the text.
HOSTILE_PATH = "/\x1b[2J\x1b]0;pwned\x07\x1b]8;;https://evil.example\x1b\\x\u202e\x9b1m"


def test_should_escape_control_characters_in_stats_and_sites(
    make_app: Callable[..., Flask], clean_database: str
) -> None:
    app = make_app(DATABASE_URL=clean_database)
    with app.app_context():
        session = get_session()
        site = create_site(session, "blog.example")
        now = datetime.now(UTC)
        view = PageView(site.id, HOSTILE_PATH, "blog.example", now, bytes(16), bytes(16))
        rollup.apply(session, [view])
        session.commit()
        site_id = site.id

    shown = app.test_cli_runner().invoke(stats, [site_id, "--days", "1"])
    listed = app.test_cli_runner().invoke(sites, ["list"])

    assert shown.exit_code == 0, shown.output
    for output in (shown.output, listed.output):
        assert not any(char in output for char in "\x1b\x07\x9b\u202e")
    assert "/\\x1b[2J\\x1b]0;pwned\\x07" in shown.output
    missing = app.test_cli_runner().invoke(stats, ["no\x1b[2Jsite"])
    assert missing.exit_code == 1
    assert "\x1b" not in missing.output
