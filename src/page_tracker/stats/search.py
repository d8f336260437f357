"""Page search: a site's pages whose path or title has every word asked for (as a word
or the start of one), through the database's own full-text index.

The backends, one per dialect, behind :class:`PageSearch`:

- PostgreSQL: a GIN index on ``to_tsvector('simple', ...)`` of path and title with
  punctuation made spaces (:data:`POSTGRES_DOCUMENT`), asked with ``to_tsquery`` prefixes;
- MariaDB/MySQL: a ``FULLTEXT`` index on the stored column ``stat_paths.search_text``
  (path and title, case-insensitive, ``_`` made a space; MariaDB only), asked ``IN
  BOOLEAN MODE`` with ``+word*``; words shorter than the server's
  ``innodb_ft_min_token_size`` (3) are not in that index and are matched with ``LIKE``;
- SQLite: the FTS5 table ``stat_paths_search`` (external content: ``stat_paths``, kept
  current by triggers), asked with ``"word"*`` prefixes.

Every index is kept current by the database itself on the one write path's inserts
into ``stat_paths`` (live hits, the Redis flush and imports alike) and built for the
rows already there by migration 0007. The question never reaches the index as syntax:
it is cut into words of letters and digits (:func:`words`), so quotes, NUL, lone
surrogates and the engines' operators (``-``, ``+``, ``*``, ``"``, ``NEAR``, ``OR``) are
plain separators or plain words.

Meilisearch (seed 002's choice) slot: a ``MeiliSearch`` class implementing
:class:`PageSearch` would send the words to its index's ``/search`` (filtered on the
site) and answer ``Path.id.in_(ids)``; it would be fed from the same write path by an
``after_commit`` hook on new ``stat_paths`` rows and chosen by a setting. None is
installed here, so none is built.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from sqlalchemy import ColumnElement, and_, func, literal_column, or_, select, text
from sqlalchemy.dialects.mysql import match
from sqlalchemy.orm import Session

from page_tracker.errors import Unprocessable
from page_tracker.stats.models import Path, Total

MAX_QUERY_LENGTH: Final = 200
MAX_WORDS: Final = 8
MAX_RESULTS: Final = 100
# Letters and digits: how every backend's tokenizer splits the text too.
_WORD: Final = re.compile(r"[^\W_]+")
# PostgreSQL: the indexed document (the index of migration 0007 is on this very text).
POSTGRES_DOCUMENT: Final = (
    "to_tsvector('simple'::regconfig, regexp_replace("
    "((stat_paths.path)::text || ' ' || COALESCE(stat_paths.title, '')), "
    "'[[:punct:][:space:]]+', ' ', 'g'))"
)
MARIADB_MIN_WORD: Final = 3


def words(query: str) -> list[str]:
    """The distinct words of ``query`` (lower case, at most :data:`MAX_WORDS`); raises
    :class:`Unprocessable` when it has none."""
    found = list(dict.fromkeys(w.lower() for w in _WORD.findall(query[:MAX_QUERY_LENGTH])))
    if not found:
        raise Unprocessable("the search needs at least one letter or digit")
    return found[:MAX_WORDS]


class PageSearch(Protocol):
    """A full-text index of page paths and titles."""

    def matches(self, wanted: Sequence[str]) -> ColumnElement[bool]:
        """A condition on :class:`Path` rows: the path or title has every word of
        ``wanted`` (lower-case letters and digits) as a word or a word's start."""
        ...


class PostgresSearch:
    def matches(self, wanted: Sequence[str]) -> ColumnElement[bool]:
        query = " & ".join(f"{word}:*" for word in wanted)
        return literal_column(POSTGRES_DOCUMENT).bool_op("@@")(
            func.to_tsquery(literal_column("'simple'::regconfig"), query)
        )


# MariaDB only (migration 0007), so not a column of the model.
_SEARCH_TEXT: Final[ColumnElement[str]] = literal_column("stat_paths.search_text")


class MariaDBSearch:
    def matches(self, wanted: Sequence[str]) -> ColumnElement[bool]:
        long = [w for w in wanted if len(w) >= MARIADB_MIN_WORD]
        conditions: list[ColumnElement[bool]] = [
            or_(Path.path.contains(w, autoescape=True), Path.title.contains(w, autoescape=True))
            for w in wanted
            if len(w) < MARIADB_MIN_WORD
        ]
        if long:
            against = " ".join(f"+{word}*" for word in long)
            conditions.append(match(_SEARCH_TEXT, against=against).in_boolean_mode())
        return and_(*conditions)


class SQLiteSearch:
    def matches(self, wanted: Sequence[str]) -> ColumnElement[bool]:
        query = " ".join(f'"{word}"*' for word in wanted)
        hits = text("SELECT rowid FROM stat_paths_search WHERE stat_paths_search MATCH :fts")
        return Path.id.in_(hits.bindparams(fts=query).columns(rowid=Path.id.type))


def search_for(session: Session) -> PageSearch:
    """The backend of ``session``'s database."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return PostgresSearch()
    if dialect == "mysql":
        return MariaDBSearch()
    return SQLiteSearch()


@dataclass(frozen=True, slots=True)
class FoundPage:
    path: str
    title: str | None
    pageviews: int  # all time
    visitors: int


def search_pages(
    session: Session, site_id: str, query: str, limit: int = MAX_RESULTS
) -> list[FoundPage]:
    """The site's pages matching ``query``, most viewed (all time) first, then by path."""
    condition = search_for(session).matches(words(query))
    views = func.coalesce(Total.pageviews, 0)
    rows = session.execute(
        select(Path.path, Path.title, views, func.coalesce(Total.visitors, 0))
        .outerjoin(Total, and_(Total.site_id == Path.site_id, Total.path_id == Path.id))
        .where(Path.site_id == site_id, condition)
        .order_by(views.desc(), Path.path)
        .limit(limit)
    )
    return [FoundPage(path, title, int(pv), int(uv)) for path, title, pv, uv in rows]


def page_condition(session: Session, query: str) -> ColumnElement[bool]:
    """The condition on :class:`Path` rows matching ``query`` (for the pages breakdown)."""
    return search_for(session).matches(words(query))
