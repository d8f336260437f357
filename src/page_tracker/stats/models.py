"""Rollup tables (GoatCounter's model): dimension tables with integer ids, hourly per-path
counts, daily and monthly per-path counts (and the months each page has rows in), daily
per-dimension counts (site-wide and per page), daily visitor sets and all-time totals.

``path_id`` 0 stands for "the whole site" in the per-path tables. Visitor columns hold
keyed hashes (16 bytes), never an address. Nothing here references ``sites`` with a
foreign key: statistics are written by the flush in bulk and deleted with the site by
:func:`page_tracker.stats.purge.purge_site`.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeEngine

from page_tracker.db import Base

SITE = 0  # path_id of the whole-site rows
MAX_PATH_LENGTH = 500  # fits a unique index on every dialect (MariaDB: 3072 bytes)
MAX_VALUE_LENGTH = 255
VISITOR_SIZE = 16

# A fixed-size binary key: BINARY(16) on MySQL/MariaDB (a BLOB cannot be a key there).
Visitor: TypeEngine[bytes] = LargeBinary(VISITOR_SIZE).with_variant(
    mysql.BINARY(VISITOR_SIZE), "mysql", "mariadb"
)


class Path(Base):
    """A page of a site (the URL path, truncated to 500 characters) and its last title."""

    __tablename__ = "stat_paths"
    __table_args__ = (UniqueConstraint("site_id", "path"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[str] = mapped_column(String(12), nullable=False)
    path: Mapped[str] = mapped_column(String(MAX_PATH_LENGTH), nullable=False)
    title: Mapped[str | None] = mapped_column(String(MAX_VALUE_LENGTH), nullable=True)


class Dimension(Base):
    """One value of one dimension: ``kind`` is browser, os, device, country, referrer,
    source, utm_source, ..., ``value`` the normalised value (``Chrome``, ``DE``, ...)."""

    __tablename__ = "stat_dimensions"
    __table_args__ = (UniqueConstraint("kind", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    value: Mapped[str] = mapped_column(String(MAX_VALUE_LENGTH), nullable=False)


class HourlyCount(Base):
    """Page views and new (daily) visitors of one path (or, path 0, the site) in one UTC
    hour: a visitor counts in the hour of their first view of the UTC day, so the hours
    of a day add up to its daily uniques (what the stats API sums in any time zone)."""

    __tablename__ = "stat_hourly"

    site_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    path_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hour: Mapped[datetime] = mapped_column(DateTime(timezone=False), primary_key=True)
    pageviews: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    visitors: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


class DailyCount(Base):
    """Page views and daily unique visitors of one path (or, path 0, the site) per UTC day."""

    __tablename__ = "stat_daily"

    site_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    path_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pageviews: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    visitors: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


class MonthlyCount(Base):
    """Page views and daily unique visitors of one path (or, path 0, the site) per UTC
    month (``month`` is its first day): always the sum of the month's ``stat_daily`` rows,
    written with them by the one rollup write path, so that a year of top pages reads
    12 rows a page instead of 365.

    The key leads with ``path_id``: a breakdown groups by path straight off the index
    (no temporary table on MariaDB), and a path's months are one index range.
    ``ix_stat_monthly_ranked`` lists a month's pages by page views, read backwards by
    :mod:`page_tracker.stats.top_pages` for the best pages of each month."""

    __tablename__ = "stat_monthly"
    __table_args__ = (Index("ix_stat_monthly_ranked", "site_id", "month", "pageviews", "path_id"),)

    site_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    path_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    pageviews: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    visitors: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


def month_of(day: date) -> date:
    """The first day of ``day``'s month (the key of :class:`MonthlyCount`)."""
    return day.replace(day=1)


class PageYear(Base):
    """The months of a UTC year in which a page has a ``stat_monthly`` row: bit ``m - 1``
    of ``months`` for month ``m`` (real pages only, no ``path_id`` 0).

    A presence summary of :class:`MonthlyCount`, one row a page and year instead of one
    a page and month, written with it by the one rollup write path (bits are OR-ed in,
    so concurrent writers commute) and rebuilt from it where rows go away (an import's
    deletion). The pages breakdown's ``total`` counts a span's whole months from here:
    a year of 20 000 pages is 20 000 rows instead of 240 000 monthly ones. The key
    leads with the year: one year's pages are one index range.

    ``pageviews`` and ``visitors`` are the sums of the page's monthly rows of the year,
    added by the same upsert; ``ix_stat_page_years_ranked`` lists a year's pages by page
    views, read backwards by :mod:`page_tracker.stats.top_pages` (a year's top pages
    are an index walk even when thousands of pages tie, where twelve monthly lists bound
    nothing)."""

    __tablename__ = "stat_page_years"
    __table_args__ = (
        Index("ix_stat_page_years_ranked", "site_id", "year", "pageviews", "path_id"),
    )

    site_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    path_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    months: Mapped[int] = mapped_column(Integer, nullable=False)
    pageviews: Mapped[int] = mapped_column(
        BigInteger, nullable=False, default=0, server_default="0"
    )
    visitors: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0, server_default="0")


class DailyDimensionCount(Base):
    """Page views per dimension value and day; ``visitors`` counts the daily visitors whose
    first page view of the day had this value."""

    __tablename__ = "stat_daily_dimensions"

    site_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    dimension_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pageviews: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    visitors: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


class DailyPathDimensionCount(Base):
    """Page views of one page per dimension value and UTC day: the crossing of
    ``stat_daily`` and ``stat_daily_dimensions`` that lets a page filter narrow the
    dimension tables and a dimension filter narrow the pages (and the totals of a page).

    ``visitors`` counts the page's daily visitors whose first view of the page that day
    had this value (summed over days, like every visitor column). Only the kinds in
    :data:`page_tracker.stats.rollup.PATH_DIMENSIONS` are crossed, and only real pages
    (no ``path_id`` 0: the site's own rows are ``stat_daily_dimensions``). The key leads
    with the page (a page filter reads one range); the second index leads with the
    dimension value (a dimension filter's pages)."""

    __tablename__ = "stat_daily_path_dimensions"
    __table_args__ = (
        Index("ix_stat_daily_path_dimensions_dimension", "site_id", "dimension_id", "day"),
    )

    site_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    path_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    dimension_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pageviews: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    visitors: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


class DailyVisitor(Base):
    """Who was seen on a day (site-wide with path 0, and per path): the daily-salted hash,
    unlinkable once the day's salt is destroyed. Makes daily uniques exact."""

    __tablename__ = "stat_daily_visitors"

    site_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    path_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    visitor: Mapped[bytes] = mapped_column(Visitor, primary_key=True)


class Total(Base):
    """All-time page views and unique visitors of a site (path 0) and of each path.

    ``visitors`` includes ``imported_visitors``: the unique visitors that imported history
    brought as a number, with no visitor set behind them (Redis mode's counter reader
    adds them to the visitor sets it counts)."""

    __tablename__ = "stat_totals"

    site_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    path_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pageviews: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    visitors: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    imported_visitors: Mapped[int] = mapped_column(
        BigInteger, nullable=False, default=0, server_default="0"
    )


class LifetimeVisitor(Base):
    """The all-time visitor set behind ``Total.visitors`` (exact uniques)."""

    __tablename__ = "stat_lifetime_visitors"

    site_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    path_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    visitor: Mapped[bytes] = mapped_column(Visitor, primary_key=True)


class Hit(Base):
    """A raw page view, kept only for sites with ``retention_days`` and deleted after it."""

    __tablename__ = "stat_hits"
    __table_args__ = (Index("ix_stat_hits_site_time", "site_id", "timestamp"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    site_id: Mapped[str] = mapped_column(String(12), nullable=False)
    path_id: Mapped[int] = mapped_column(Integer, nullable=False)
    timestamp: Mapped[datetime] = mapped_column(DateTime(timezone=False), nullable=False)
    visitor: Mapped[bytes] = mapped_column(Visitor, nullable=False)
    event: Mapped[str | None] = mapped_column(String(100), nullable=True)
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    browser: Mapped[str | None] = mapped_column(String(MAX_VALUE_LENGTH), nullable=True)
    os: Mapped[str | None] = mapped_column(String(MAX_VALUE_LENGTH), nullable=True)
    device: Mapped[str | None] = mapped_column(String(16), nullable=True)
    country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    referrer_host: Mapped[str | None] = mapped_column(String(MAX_VALUE_LENGTH), nullable=True)
    screen_class: Mapped[str | None] = mapped_column(String(16), nullable=True)
