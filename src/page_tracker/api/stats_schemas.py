"""What the stats endpoints take (query parameters) and answer; the OpenAPI schemas too.

Only the shape is checked here (400); whether a well-formed range can be answered (from
after to, too many days, an unknown zone, a filter the rollups cannot apply) is the
service's to say (422, :mod:`page_tracker.stats.ranges`, ``report``), except two filters that no
rollup crosses (two dimensions, or a dimension breakdown under another dimension's
filter): those are refused as a bad request (400).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from page_tracker.stats.models import MAX_PATH_LENGTH, MAX_VALUE_LENGTH
from page_tracker.stats.ranges import known_zones
from page_tracker.stats.search import MAX_QUERY_LENGTH, MAX_RESULTS

Zone = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        description="IANA time zone of the dates and periods (Europe/Berlin).",
        json_schema_extra={"enum": sorted(known_zones())},
    ),
]
From = Annotated[
    date | None,
    Field(alias="from", description="First local date (default: 29 days before `to`)."),
]
To = Annotated[date | None, Field(description="Last local date, inclusive (default: today).")]
SearchText = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_QUERY_LENGTH,
        pattern=r"^[^\x00-\x1f\x7f]*$",
        description="Words of page paths or titles; punctuation and operators only separate words.",
    ),
]
Format = Annotated[
    Literal["json", "csv"] | None,
    Field(description="`csv` answers text/csv (as does `Accept: text/csv`)."),
]


class _Query(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: From = None
    to: To = None
    tz: Zone = "UTC"
    format: Format = None


class _Filtered(_Query):
    """The filters: a page, one dimension value, or both (two dimension filters: 400)."""

    page: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_PATH_LENGTH,
        pattern=r"^/[^\x00-\x1f\x7f]*$",
        description="Only this page (its path); works with every interval and zone, and "
        "goes with one dimension filter.",
    )
    referrer: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_VALUE_LENGTH,
        pattern=r"^[^\x00-\x1f\x7f]*$",  # PostgreSQL refuses NUL in a parameter
        description="Only views from this referring host (whole UTC days: tz=UTC, "
        "interval day or month).",
    )
    country: str | None = Field(
        default=None,
        pattern=r"^[A-Z]{2}$",
        description="Only views from this country (ISO 3166 code; whole UTC days).",
    )
    device: Literal["desktop", "mobile", "tablet", "other"] | None = Field(
        default=None, description="Only views from this device class (whole UTC days)."
    )
    browser: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_VALUE_LENGTH,
        pattern=r"^[^\x00-\x1f\x7f]*$",
        description="Only views from this browser (Firefox; whole UTC days).",
    )
    os: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_VALUE_LENGTH,
        pattern=r"^[^\x00-\x1f\x7f]*$",
        description="Only views from this operating system (Android; whole UTC days).",
    )
    campaign: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_VALUE_LENGTH,
        pattern=r"^[^\x00-\x1f\x7f]*$",
        description="Only views with this utm_campaign (whole UTC days).",
    )
    entry_page: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_VALUE_LENGTH,
        pattern=r"^/[^\x00-\x1f\x7f]*$",
        description="Only the entrances on this page (its path): the daily visitors whose "
        "first view of the site that UTC day was there; `pageviews` are those entrances "
        "(whole UTC days).",
    )


class StatsQuery(_Filtered):
    interval: Literal["hour", "day", "month"] = "day"


class BreakdownQuery(_Filtered):
    """A breakdown follows the filters: with `page`, every table lists that page's views;
    with a dimension filter, `pages` lists the pages of those views and the breakdown of
    the same kind its one value. Another dimension's breakdown cannot follow a dimension
    filter (400): nothing counts two dimensions together."""

    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0, le=1_000_000)
    utm: Literal["source", "medium", "campaign", "term", "content"] = Field(
        default="campaign", description="Which utm_* parameter `campaigns` lists."
    )
    search: SearchText | None = Field(
        default=None,
        description="`pages` only: just the pages whose path or title has every word "
        "(or a word's start) of this text, through the database's full-text index.",
    )


class PageSearchQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    q: SearchText
    limit: int = Field(default=20, ge=1, le=MAX_RESULTS)


class FoundPage(BaseModel):
    path: str
    title: str | None = Field(description="The page's title when it was first seen.")
    pageviews: int = Field(description="All-time page views.")
    visitors: int = Field(description="All-time unique visitors.")


class PageSearchOut(BaseModel):
    site: str
    q: str
    words: list[str] = Field(description="The words searched for (letters and digits).")
    items: list[FoundPage] = Field(description="Most viewed (all time) first, then by path.")


class Totals(BaseModel):
    pageviews: int
    visitors: int = Field(description="Daily unique visitors, summed over the days.")


class Change(BaseModel):
    """Percent change against the previous period (null: nothing then)."""

    pageviews: float | None
    visitors: float | None


class Point(BaseModel):
    period: str = Field(examples=["2026-03-29T02:00:00+02:00", "2026-03-29", "2026-03"])
    start: datetime = Field(description="When the period starts, in the zone.")
    pageviews: int
    visitors: int


class Freshness(BaseModel):
    """How current the numbers are."""

    unflushed_pageviews: int | None = Field(
        description="Page views received but not in these numbers yet (Redis mode: at "
        "most a few seconds' worth while the worker runs; null: Redis did not answer)."
    )
    last_counted_hour: datetime | None = Field(description="UTC start of the latest hour.")


class StatsOut(BaseModel):
    site: str
    start: date
    end: date
    tz: str
    interval: Literal["hour", "day", "month"]
    totals: Totals
    previous: Totals = Field(description="The as many days just before `start`.")
    change: Change
    series: list[Point]
    freshness: Freshness


class Item(BaseModel):
    value: str = Field(description="The page's path, browser, country code ...")
    title: str | None = Field(default=None, description="The page's last title (pages).")
    pageviews: int = Field(
        description="Page views; for `entry_pages` the entrances: the daily visitors "
        "whose first view of the site that UTC day was this page."
    )
    visitors: int = Field(description="Daily unique visitors, summed over the days.")


class BreakdownOut(BaseModel):
    site: str
    kind: str
    start: date
    end: date
    tz: str
    basis: Literal["local-hours", "utc-days"] = Field(
        description="`utc-days`: whole UTC days from start to end (dimensions are counted "
        "per UTC day); `local-hours`: the local days' hours."
    )
    total: int = Field(description="How many values there are in all.")
    limit: int
    offset: int
    items: list[Item]
    freshness: Freshness


class RealtimeOut(BaseModel):
    site: str
    visitors: int | None = Field(
        description="Distinct visitors in the last `window_seconds` (null in embedded "
        "mode, which cannot tell)."
    )
    window_seconds: int
