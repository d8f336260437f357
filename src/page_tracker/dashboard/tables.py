"""The site page's tables: which breakdown each lists, the filter a click on a row sets,
and the page of rows the URL asks for (``<table>_offset``). Each lists the filtered views;
a dimension table under another dimension's filter lists nothing and says why
(``found`` is ``None``: no rollup crosses two dimensions)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from page_tracker.errors import Unprocessable
from page_tracker.stats import cached
from page_tracker.stats.breakdowns import Breakdown, dimension_kind
from page_tracker.stats.filters import Filter, blocking
from page_tracker.stats.ranges import Range

ROWS: Final = 10
MAX_OFFSET: Final = 1_000_000
_REGIONAL_A: Final = 0x1F1E6  # REGIONAL INDICATOR SYMBOL LETTER A


@dataclass(frozen=True, slots=True)
class Table:
    key: str  # the breakdown's name, and the prefix of its offset parameter
    filter: str  # the filter a click on a row sets


# The template gives each its (translated) title.
TABLES: Final = (
    Table("pages", "page"),
    Table("entry_pages", "page"),  # a row shows its page's views, as in "pages"
    Table("referrers", "referrer"),
    Table("campaigns", "campaign"),
    Table("countries", "country"),
    Table("browsers", "browser"),
    Table("os", "os"),
    Table("devices", "device"),
)


@dataclass(frozen=True, slots=True)
class Shown:
    table: Table
    found: Breakdown | None  # None: the table cannot follow a filter ...
    offset: int
    blocked_by: str | None = None  # ... this one (its URL parameter)

    @property
    def previous_offset(self) -> int | None:
        return max(0, self.offset - ROWS) if self.offset else None

    @property
    def next_offset(self) -> int | None:
        after = self.offset + ROWS
        return after if self.found is not None and after < self.found.total else None


def flag(code: str) -> str:
    """The flag emoji of an ISO 3166 code (two regional indicator letters), or ``""``."""
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        return ""
    return "".join(chr(_REGIONAL_A + ord(letter) - ord("A")) for letter in code.upper())


def offset_of(args: Mapping[str, str], key: str) -> int:
    given = args.get(f"{key}_offset", "0")
    if not (given.isascii() and given.isdigit()) or len(given) > 7 or int(given) > MAX_OFFSET:
        raise Unprocessable(
            _("%(key)s_offset must be a whole number from 0 to %(most)s", key=key, most=MAX_OFFSET)
        )
    return int(given)


def offsets(args: Mapping[str, str]) -> dict[str, int]:
    """Every table's offset, checked before any query runs."""
    return {table.key: offset_of(args, table.key) for table in TABLES}


def shown(
    session: Session, site_id: str, rng: Range, at: Mapping[str, int], where: Filter
) -> list[Shown]:
    """Every table's rows of the filtered views (``found`` ``None`` where a table cannot
    follow ``where``)."""
    found: list[Shown] = []
    for table in TABLES:
        blocked = blocking(dimension_kind(table.key), where)
        if blocked is not None:
            found.append(Shown(table, None, at[table.key], blocked))
            continue
        rows = cached.breakdown(
            session, site_id, rng, table.key, limit=ROWS, offset=at[table.key], where=where
        )
        found.append(Shown(table, rows, at[table.key]))
    return found
