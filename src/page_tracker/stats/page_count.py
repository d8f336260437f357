"""How many pages have rows in a span (the pages breakdown's ``total``), without
grouping every page row of the span. Each page is counted once:

- the pages of the whole months, from ``stat_page_years`` (a row a page and year: a year
  of 20 000 pages is 20 000 rows, not the 240 000 monthly ones);
- the pages of the edge days that are in none of the whole months. A page with a row on
  an edge day has a monthly row, so a mark, in that day's month: only the pages marked
  in an edge month and in no whole month can add to the count. On a site whose pages
  come back month after month there are none, and no edge day is read at all; up to
  :data:`CANDIDATES` of them, the edge days' rows of those pages only; more (pages that
  live a month or less), the edge days' rows of every page;
- the pages of the edge hours (a few hours of a zone's edge days) in none of the above:
  an hour's page has a row that day (a day is the sum of its hours), so a mark in its
  month, and the edge-only pages above include them; past :data:`CANDIDATES`, the
  hours' days' pages that have one of the hours.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Final

from sqlalchemy import func, select, union, union_all
from sqlalchemy.orm import Session

from page_tracker.stats import page_years
from page_tracker.stats.cover import HOUR, Cover
from page_tracker.stats.models import SITE, DailyCount, HourlyCount, PageYear

CANDIDATES: Final = 1_000  # edge-only pages whose edge rows are read by id, at most


def _months(spans: list[tuple[date, date]]) -> list[date]:
    found: list[date] = []
    for first, last in spans:
        month = first.replace(day=1)
        while month <= last:
            found.append(month)
            month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return found


def _day_rows(site_id: str, spans: list[tuple[date, date]], ids: list[int] | None) -> list[Any]:
    rows = []
    for first, last in spans:
        where = (
            (DailyCount.site_id == site_id) & (DailyCount.day >= first) & (DailyCount.day <= last)
        )
        where &= DailyCount.path_id != SITE if ids is None else DailyCount.path_id.in_(ids)
        rows.append(select(DailyCount.path_id).where(where))
    return rows


def _hour_rows(site_id: str, spans: list[tuple[datetime, datetime]]) -> list[Any]:
    """The pages with rows in the edge hours: those of the hours' days (a page's hour
    has its day's row: a day is the sum of its hours) that have one of the hours. The
    hourly key leads with the page, so a range of hours alone would read every hour of
    every page of the site; this reads a day's pages and probes each one's hours."""
    found = []
    for low, high in spans:
        days = _days_of(low, high)
        hours = select(HourlyCount.path_id).where(
            HourlyCount.site_id == site_id,
            HourlyCount.path_id == DailyCount.path_id,
            HourlyCount.hour >= low,
            HourlyCount.hour < high,
        )
        found.append(
            select(DailyCount.path_id).where(
                DailyCount.site_id == site_id,
                DailyCount.day.in_(days),
                DailyCount.path_id != SITE,
                hours.exists(),
            )
        )
    return found


def _days_of(low: datetime, high: datetime) -> list[date]:
    last = (high - HOUR).date()
    return [low.date() + timedelta(days=n) for n in range((last - low.date()).days + 1)]


def _edge_only(
    session: Session,
    site_id: str,
    months: list[date],
    whole: tuple[date, date],
    most: int,
) -> list[int] | None:
    """The pages marked in one of the edge ``months`` and in none of the ``whole``
    months (``None``: more than ``most``)."""
    found: Any = union(*page_years.only_in(site_id, months, whole)).subquery()
    ids = sorted(session.scalars(select(found.c.path_id).limit(most + 1)))
    return ids if len(ids) <= most else None


def _hour_rows_of(
    site_id: str, spans: list[tuple[datetime, datetime]], ids: list[int]
) -> list[Any]:
    return [
        select(HourlyCount.path_id).where(
            HourlyCount.site_id == site_id,
            HourlyCount.path_id.in_(ids),
            HourlyCount.hour >= low,
            HourlyCount.hour < high,
        )
        for low, high in spans
    ]


def count_pages(
    session: Session, site_id: str, pieces: Cover, *, candidates: int = CANDIDATES
) -> int:
    """How many pages have rows in the span of ``pieces``; ``candidates``: the edge-only
    pages read by id at most."""
    whole: tuple[date, date] | None = pieces.months[0] if pieces.months else None  # one range
    counted = 0
    if whole is not None:
        pages = page_years.pages_in_months(site_id, *whole)
        if not page_years.one_year(*whole):  # a page is a row each year
            pages = pages.distinct()
        counted = int(session.scalar(select(func.count()).select_from(pages.subquery())) or 0)
    # An edge hour's page has a row that day, so a mark in that month, like an edge day's.
    months = _months(
        pieces.days + [(low.date(), (high - HOUR).date()) for low, high in pieces.hours]
    )
    ids = (
        None
        if whole is None or not months
        else _edge_only(session, site_id, months, whole, candidates)
    )
    if ids == []:
        return counted
    if ids is not None:  # the few edge-only pages: their edge rows by id
        edges = _day_rows(site_id, pieces.days, ids) + _hour_rows_of(site_id, pieces.hours, ids)
    else:
        edges = _day_rows(site_id, pieces.days, None) + _hour_rows(site_id, pieces.hours)
    if not edges:
        return counted
    rows = union_all(*edges).subquery() if len(edges) > 1 else edges[0].subquery()
    query = select(func.count(rows.c.path_id.distinct()))
    if whole is not None and ids is None:
        in_whole = select(PageYear.path_id).where(
            page_years.in_months(site_id, *whole), PageYear.path_id == rows.c.path_id
        )
        query = query.where(~in_whole.exists())
    return counted + int(session.scalar(query) or 0)
