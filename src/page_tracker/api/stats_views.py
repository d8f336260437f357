"""``/api/v1/sites/{id}/stats`` and its breakdowns: the HTTP side of
:mod:`page_tracker.stats.report` (JSON or CSV, ``ETag``/``Last-Modified``, 304). The
reports are read through the cache (:mod:`page_tracker.stats.cached`), keyed by every
argument they take, and so is the latest hour counted beside them (a write drops both
together); the page views waiting for a flush are read each time."""

from __future__ import annotations

import csv
import functools
import hashlib
import io
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from flask import Blueprint, Response, request
from pydantic import BaseModel

from page_tracker.api import stats_schemas as schemas
from page_tracker.api.rendered import RENDERED
from page_tracker.auth.permissions import readable_site
from page_tracker.db import get_session
from page_tracker.json_api import operation, to_response
from page_tracker.stats import cached, live, report, search
from page_tracker.stats.breakdowns import BREAKDOWNS, Breakdown
from page_tracker.stats.filters import Filter
from page_tracker.stats.live import LIVE
from page_tracker.stats.ranges import Interval, make_range

M = TypeVar("M", bound=BaseModel)

blueprint = Blueprint("api_stats", __name__, url_prefix="/api/v1")

BREAKDOWN_RULE = f"/sites/<site_id>/stats/<any({', '.join(BREAKDOWNS)}):kind>"
_ERRORS = (400, 401, 403, 404, 422)
_CSV = "text/csv"
# A cell a spreadsheet would run as a formula (a referrer or title is the reader's text).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _wants_csv(given: str | None) -> bool:
    if given is not None:
        return given == "csv"
    # Only "text/csv", "text/*" or "*/*" (which prefers JSON, listed first) could pick CSV:
    # without "text" in Accept the answer is JSON, and its parsing (~25 µs) is saved.
    if "text" not in request.headers.get("Accept", "").lower():
        return False
    best = request.accept_mimetypes.best_match(["application/json", _CSV])
    return best == _CSV


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([_cell(value) for value in row] for row in rows)
    return out.getvalue()


def _last_modified(fresh: report.Freshness) -> datetime | None:
    """When the numbers last changed: within the latest counted hour (or now, while hits
    wait for their flush)."""
    now = datetime.now(UTC).replace(microsecond=0)
    if fresh.unflushed_pageviews != 0:  # waiting, or unknown
        return now
    if fresh.last_counted_hour is None:
        return None
    return min(now, fresh.last_counted_hour + timedelta(hours=1))


def _answer(
    json: Callable[[], str],
    fresh: report.Freshness,
    as_csv: bool,
    table: tuple[Sequence[str], Iterable[Sequence[object]]],
    filename: str,
) -> Response:
    """``json()`` (the answer's JSON), or ``table`` (header, rows) as CSV; conditional on
    ETag and Last-Modified (a match is answered 304 without a body)."""
    if as_csv:
        body, media = _csv(*table), f"{_CSV}; charset=utf-8"
    else:
        body, media = json() + "\n", "application/json"
    response = Response(body, 200, content_type=media)
    if as_csv:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    response.set_etag(hashlib.sha256(body.encode()).hexdigest()[:32])
    response.last_modified = _last_modified(fresh)
    # Every caller revalidates; no shared cache keeps one member's answer for another.
    response.headers["Cache-Control"] = "private, no-cache"
    response.vary.update(("Accept", "Authorization", "Cookie"))
    response.make_conditional(request)  # turns it into a 304 in place
    return response


def _from(model: type[M], found: object) -> M:
    """A service result (a dataclass) as its answer model."""
    return model.model_validate(found, from_attributes=True)


def _filter(query: schemas.StatsQuery | schemas.BreakdownQuery) -> Filter:
    """The query's filters (two dimension filters: 400)."""
    return Filter.of(
        page=query.page,
        referrer=query.referrer,
        country=query.country,
        device=query.device,
        browser=query.browser,
        os=query.os,
        campaign=query.campaign,
        entry_page=query.entry_page,
    )


def _fresh(fresh: report.Freshness) -> schemas.Freshness:
    return _from(schemas.Freshness, fresh)


def _summary(found: report.Summary) -> dict[str, object]:
    """The fields of ``/stats`` that come from the report (rendered once per report:
    :mod:`page_tracker.api.rendered`)."""
    pageviews_change, visitors_change = report.change(found)
    return {
        "totals": found.totals,
        "previous": found.previous,
        "change": {"pageviews": pageviews_change, "visitors": visitors_change},
        "series": found.series,
    }


def _breakdown(found: Breakdown) -> dict[str, object]:
    return {"basis": found.basis, "total": found.total, "items": found.items}


def _freshness(site_id: str) -> report.Freshness:
    return cached.freshness(get_session(), site_id, LIVE.get())


@blueprint.get("/sites/<site_id>/stats")
@operation(
    "A site's totals (with the change against the previous period) and time series",
    tag="stats",
    access="read",
    query=schemas.StatsQuery,
    responses={200: schemas.StatsOut},
    errors=_ERRORS,
    csv=True,
)
def site_stats(site_id: str, query: schemas.StatsQuery) -> Response:
    session = get_session()
    LIVE.get().read_ahead(site_id)  # with the epoch's read: one Redis round trip
    readable_site(session, site_id)
    interval = Interval(query.interval)
    rng = make_range(query.from_, query.to, query.tz, interval)
    where = _filter(query)
    found = cached.summary(session, site_id, rng, interval, where)
    fresh = _freshness(site_id)
    head = {
        "site": site_id,
        "start": rng.start,
        "end": rng.end,
        "tz": query.tz,
        "interval": query.interval,
    }
    rows = ((p.period, p.start.isoformat(), p.pageviews, p.visitors) for p in found.series)
    header = ("period", "start", "pageviews", "visitors")
    name = f"{site_id}-stats-{rng.start}-{rng.end}"
    json = functools.partial(RENDERED.json, schemas.StatsOut, head, found, _summary, _fresh(fresh))
    return _answer(json, fresh, _wants_csv(query.format), (header, rows), name)


@blueprint.get("/sites/<site_id>/stats/realtime")
@operation(
    "Visitors on the site in the last five minutes (Redis mode)",
    tag="stats",
    access="read",
    responses={200: schemas.RealtimeOut},
    errors=(401, 403, 404),
)
def site_realtime(site_id: str) -> Response:
    readable_site(get_session(), site_id)
    out = schemas.RealtimeOut(
        site=site_id, visitors=LIVE.get().count(site_id), window_seconds=live.WINDOW_SECONDS
    )
    response = to_response(out)
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get(BREAKDOWN_RULE)
@operation(
    "A site's pages, referrers, browsers, OS, devices, countries, campaigns or entry pages "
    "(of the filtered views)",
    tag="stats",
    access="read",
    query=schemas.BreakdownQuery,
    responses={200: schemas.BreakdownOut},
    errors=_ERRORS,
    csv=True,
)
def site_breakdown(site_id: str, kind: str, query: schemas.BreakdownQuery) -> Response:
    session = get_session()
    LIVE.get().read_ahead(site_id)  # with the epoch's read: one Redis round trip
    readable_site(session, site_id)
    rng = make_range(query.from_, query.to, query.tz, Interval.DAY)
    found = cached.breakdown(
        session,
        site_id,
        rng,
        kind,
        limit=query.limit,
        offset=query.offset,
        campaign_field=query.utm,
        search=query.search,
        where=_filter(query),
    )
    fresh = _freshness(site_id)
    head = {
        "site": site_id,
        "kind": kind,
        "start": rng.start,
        "end": rng.end,
        "tz": query.tz,
        "limit": query.limit,
        "offset": query.offset,
    }
    rows = ((i.value, i.title, i.pageviews, i.visitors) for i in found.items)
    header = ("value", "title", "pageviews", "visitors")
    name = f"{site_id}-{kind}-{rng.start}-{rng.end}"
    json = functools.partial(
        RENDERED.json, schemas.BreakdownOut, head, found, _breakdown, _fresh(fresh)
    )
    return _answer(json, fresh, _wants_csv(query.format), (header, rows), name)


@blueprint.get("/sites/<site_id>/pages/search")
@operation(
    "A site's pages whose path or title has the words asked for",
    tag="stats",
    access="read",
    query=schemas.PageSearchQuery,
    responses={200: schemas.PageSearchOut},
    errors=_ERRORS,
)
def site_page_search(site_id: str, query: schemas.PageSearchQuery) -> Response:
    session = get_session()
    readable_site(session, site_id)
    wanted = search.words(query.q)
    found = search.search_pages(session, site_id, query.q, query.limit)
    out = schemas.PageSearchOut(
        site=site_id,
        q=query.q,
        words=wanted,
        items=[_from(schemas.FoundPage, page) for page in found],
    )
    return to_response(out)
