"""The app a server's worker serves has the enrichment's data loaded before its first
request (the concurrent first requests must not each build the crawler matcher)."""

from __future__ import annotations

from pathlib import Path

import pytest

from page_tracker.app import close_app, create_serving_app
from page_tracker.enrich import bots
from page_tracker.settings import load_settings

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_should_build_the_bot_matchers_when_the_worker_app_is_made(
    tmp_path: Path, clean_database: str
) -> None:
    bots._crawler_matcher.cache_clear()
    bots._rules.cache_clear()
    settings = load_settings(
        LOG_DIR=str(tmp_path / "log"),
        PAGE_TRACKER_ENV="test",
        DATABASE_URL=clean_database,
        EMBEDDED_JOBS="false",
    )

    app = create_serving_app(settings)
    try:
        assert bots._crawler_matcher.cache_info().currsize == 1
        assert bots._rules.cache_info().currsize == 1
    finally:
        close_app(app)
