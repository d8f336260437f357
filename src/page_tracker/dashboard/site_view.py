"""What the site page shows for its URL: the range, the filter, totals with their change,
the chart's stats API query and the tables, all from :mod:`page_tracker.stats.report`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from page_tracker.dashboard import filters, ranges, tables
from page_tracker.stats import cached, report
from page_tracker.stats.ranges import Interval, make_range


@dataclass(frozen=True, slots=True)
class SiteView:
    chosen: ranges.Chosen
    where: filters.Where
    tz: str  # the zone the totals and the chart count in (UTC with a dimension filter)
    interval: Interval  # the chart's step
    found: report.Summary
    change: tuple[float | None, float | None]
    tables: list[tables.Shown]

    @property
    def stats_query(self) -> dict[str, str]:
        """The stats API query of these totals and this chart (and their CSV)."""
        query = {
            "from": self.chosen.start.isoformat(),
            "to": self.chosen.end.isoformat(),
            "tz": self.tz,
            "interval": self.interval.value,
        }
        for found in self.where.chosen:
            query[found.name] = found.value
        return query


def build(session: Session, site_id: str, args: Mapping[str, str]) -> SiteView:
    """The view of ``args``; :class:`~page_tracker.errors.Unprocessable` (before any query
    of the numbers) for a range, zone, filter or offset that cannot be shown. Totals,
    chart and every table follow the filters (a table that cannot is shown as such)."""
    chosen = ranges.choose(args)
    where = filters.choose(args)
    at = tables.offsets(args)
    tz, interval = chosen.tz, chosen.interval
    if where.by_utc_days:
        # Dimensions are counted per UTC day: the same dates, as UTC days.
        tz = ranges.DEFAULT_ZONE
        if interval is Interval.HOUR:
            interval = Interval.DAY
    rng = make_range(chosen.start, chosen.end, tz, interval)
    table_rng = make_range(chosen.start, chosen.end, chosen.tz, Interval.DAY)
    wanted = where.to_report()
    found = cached.summary(session, site_id, rng, interval, wanted)
    return SiteView(
        chosen,
        where,
        tz,
        interval,
        found,
        report.change(found),
        tables.shown(session, site_id, table_rng, at, wanted),
    )
