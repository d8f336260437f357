"""stats.search on each database: pages found by a word (or a word's start) of their
path or title through the database's full-text index, kept current by the rollup write
path; any question is safe (no SQL or FTS syntax gets through)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from page_tracker.db import make_engine
from page_tracker.errors import Unprocessable
from page_tracker.stats import rollup
from page_tracker.stats.pageview import PageView
from page_tracker.stats.search import search_pages

SITE_ID = "search000001"
OTHER = "search000002"
PAGES = {
    "/blog/winter-recipes": "Soup and bread for cold evenings",
    "/blog/summer_holidays": "Travelling light",
    "/about": "About the author",
    "/docs/install-guide": None,
    "/café/menü": "Crème brûlée",
}
_visitors = itertools.count(1)


@pytest.fixture
def engine(clean_database: str) -> Iterator[Engine]:
    engine = make_engine(clean_database)
    write(engine, SITE_ID, PAGES)
    write(engine, OTHER, {"/blog/winter-recipes": "Soup elsewhere"})
    yield engine
    engine.dispose()


def write(engine: Engine, site: str, pages: dict[str, str | None], views: int = 1) -> None:
    """Views of ``pages`` through the one rollup write path (new paths and titles)."""
    made = []
    for number, (path, title) in enumerate(pages.items()):
        for _ in range(views + number):  # later pages more viewed
            token = next(_visitors).to_bytes(16, "big")
            made.append(
                PageView(
                    site_id=site,
                    path=path,
                    hostname="example.com",
                    timestamp=datetime(2026, 3, 1, 12, tzinfo=UTC),
                    visitor=token,
                    lifetime_visitor=token,
                    title=title,
                )
            )
    with Session(engine) as session, session.begin():
        rollup.apply(session, made)


def found(engine: Engine, query: str, site: str = SITE_ID) -> list[str]:
    with Session(engine) as session:
        return [page.path for page in search_pages(session, site, query)]


@pytest.mark.parametrize(
    ("query", "paths"),
    [
        ("winter", ["/blog/winter-recipes"]),  # a word of the path
        ("recipes", ["/blog/winter-recipes"]),
        ("holidays", ["/blog/summer_holidays"]),  # "_" separates words
        ("soup", ["/blog/winter-recipes"]),  # a word of the title
        ("EVENINGS", ["/blog/winter-recipes"]),  # any case
        ("inst", ["/docs/install-guide"]),  # a word's start
        ("blog", ["/blog/summer_holidays", "/blog/winter-recipes"]),  # most viewed first
        ("blog travelling", ["/blog/summer_holidays"]),  # every word
        ("blog author", []),
        ("menü", ["/café/menü"]),
        ("zebra", []),
    ],
)
def test_should_find_pages_by_words_of_their_path_or_title(
    engine: Engine, query: str, paths: list[str]
) -> None:
    assert found(engine, query) == paths


def test_should_find_only_the_sites_own_pages_with_their_all_time_counts(engine: Engine) -> None:
    with Session(engine) as session:
        pages = search_pages(session, OTHER, "soup")
    assert [(p.path, p.title, p.pageviews) for p in pages] == [
        ("/blog/winter-recipes", "Soup elsewhere", 1)
    ]


def test_should_find_a_page_as_soon_as_the_write_path_adds_it(engine: Engine) -> None:
    assert found(engine, "spring") == []
    write(engine, SITE_ID, {"/blog/spring-cleaning": "Spring"})
    assert found(engine, "spring") == ["/blog/spring-cleaning"]
    assert len(found(engine, "blog")) == 3


@pytest.mark.parametrize(
    "query",
    [
        'winter" OR "about',
        "winter*",
        "-winter",
        "+winter -",
        "winter AND",
        "NEAR(winter about)",
        "winter:*",
        "winter & !about | (",
        "'; DROP TABLE stat_paths; --",
        "win\x00ter",
        "win\ud800ter",
        "\\winter%_",
        "title:winter",
        "^winter",
    ],
)
def test_should_treat_operators_quotes_nul_and_surrogates_as_separators(
    engine: Engine, query: str
) -> None:
    # no error, and the words in it are searched as plain words
    paths = found(engine, query)
    assert set(paths) <= set(PAGES)
    assert found(engine, "author") == ["/about"]  # and the index is still there


@pytest.mark.parametrize("query", ["", "   ", "***", '"', "\x00", "\ud800", "-+*()"])
def test_should_refuse_a_question_without_a_word(engine: Engine, query: str) -> None:
    with pytest.raises(Unprocessable, match="at least one letter or digit"):
        found(engine, query)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(max_size=300))
def test_should_answer_any_question_without_a_database_error(engine: Engine, query: str) -> None:
    try:
        paths = found(engine, query)
    except Unprocessable:
        return
    assert set(paths) <= set(PAGES)
