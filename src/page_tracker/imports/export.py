"""Exports of a site's statistics: our own CSV and JSON Lines (which ``page-tracker import
page-tracker`` reads back exactly), and a Plausible-compatible zip (to move on).

Our CSV has the header :data:`CSV_HEADER` and one row per rollup row
(:mod:`page_tracker.imports.rollup_rows`); ``time`` is the hour (``2025-03-01T09:00:00Z``)
of ``hourly`` rows and the day of ``daily`` and ``dimension`` rows, ``path`` is empty
for the whole site. The JSON export is JSON Lines: a first object
``{"format": "page-tracker-export", "version": 1, ...}``, then one object per row with
the same names. Both are written while the rows are read (memory stays flat).
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from typing import IO, Any

from page_tracker.enrich.referrers import source_name
from page_tracker.imports.rollup_rows import RollupRow

FORMAT = "page-tracker-export"
VERSION = 1
CSV_HEADER = ("table", "path", "dimension", "value", "time", "pageviews", "visitors")


def _time(row: RollupRow) -> str:
    if row.hour is not None:
        return row.hour.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")
    return row.day.isoformat() if row.day is not None else ""


def write_csv(rows: Iterable[RollupRow], out: IO[str]) -> int:
    """Write our CSV export; returns the number of rows."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    count = 0
    for row in rows:
        writer.writerow(
            (row.table, row.path, row.kind, row.value, _time(row), row.pageviews, row.visitors)
        )
        count += 1
    return count


def write_json_lines(
    rows: Iterable[RollupRow], out: IO[str], *, domain: str, start: date | None, end: date | None
) -> int:
    """Write our JSON Lines export; returns the number of rows."""
    header = {
        "format": FORMAT,
        "version": VERSION,
        "site": domain,
        "from": start.isoformat() if start else None,
        "to": end.isoformat() if end else None,
    }
    out.write(json.dumps(header) + "\n")
    count = 0
    for row in rows:
        item: dict[str, Any] = {"table": row.table, "path": row.path}
        if row.kind:
            item.update(dimension=row.kind, value=row.value)
        if row.table != "total":
            item["time"] = _time(row)
        item.update(pageviews=row.pageviews, visitors=row.visitors)
        out.write(json.dumps(item, ensure_ascii=False) + "\n")
        count += 1
    return count


# --- Plausible ---------------------------------------------------------------------

_COMMON = ("visitors", "visits", "visit_duration", "bounces", "pageviews")
PLAUSIBLE_TABLES: dict[str, tuple[str, ...]] = {
    "visitors": ("date", "visitors", "pageviews", "bounces", "visits", "visit_duration"),
    "pages": ("date", "hostname", "page", "visits", "visitors", "pageviews", "exits",
              "time_on_page"),
    "sources": ("date", "source", "referrer", "utm_source", "utm_medium", "utm_campaign",
                "utm_content", "utm_term", "pageviews", "visitors", "visits", "visit_duration",
                "bounces"),
    "locations": ("date", "country", "region", "city", *_COMMON),
    "devices": ("date", "device", *_COMMON),
    "browsers": ("date", "browser", "browser_version", *_COMMON),
    "operating_systems": ("date", "operating_system", "operating_system_version", *_COMMON),
    "custom_events": ("date", "name", "link_url", "path", "visitors", "events"),
    "entry_pages": ("date", "entry_page", "visitors", "entrances", "visit_duration", "bounces"),
}  # fmt: skip


def _common(views: int, visitors: int) -> tuple[int, int, int, int, int]:
    # page-tracker does not track visits, bounces or durations: a visitor is one visit
    return visitors, visitors, 0, 0, views


def _versions(
    named: dict[str, tuple[int, int]], versioned: dict[str, tuple[int, int]]
) -> Iterator[tuple[str, str, int, int]]:
    """(name, version, views, visitors): each versioned value, and what its name has
    beyond its versions as "(not set)"."""
    left = {name: list(counts) for name, counts in named.items()}
    for text, (views, visitors) in sorted(versioned.items()):
        name, _, version = text.rpartition(" ")
        yield name, version, views, visitors
        if name in left:
            left[name][0] -= views
            left[name][1] -= visitors
    for name, (views, visitors) in sorted(left.items()):
        if views > 0 or visitors > 0:
            yield name, "(not set)", max(views, 0), max(visitors, 0)


class PlausibleWriter:
    """Collects one day's rows at a time and writes Plausible's tables into a zip."""

    def __init__(self, domain: str) -> None:
        self.domain = domain
        self.buffers = {table: io.StringIO() for table in PLAUSIBLE_TABLES}
        self.writers = {
            table: csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
            for table, buffer in self.buffers.items()
        }
        for table, columns in PLAUSIBLE_TABLES.items():
            self.buffers[table].write(",".join(f'"{name}"' for name in columns) + "\n")
        self.first: date | None = None
        self.last: date | None = None

    def add_day(self, day: date, rows: list[RollupRow]) -> None:
        self.first = self.first or day
        self.last = day
        text = day.isoformat()
        dims: defaultdict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
        for row in rows:
            counts = (row.pageviews, row.visitors)
            if row.table == "daily" and not row.path:
                self.writers["visitors"].writerow((text, row.visitors, row.pageviews, 0,
                                                   row.visitors, 0))  # fmt: skip
            elif row.table == "daily":
                self.writers["pages"].writerow((text, self.domain, row.path, row.visitors,
                                                row.visitors, row.pageviews, 0, 0))  # fmt: skip
            elif row.table == "dimension":
                dims[row.kind][row.value] = counts
        # Plausible's sources rows are combinations (source, referrer, utm_*); ours are
        # counted apart, so only referrers are written: utm rows would count twice.
        for host, (views, visitors) in sorted(dims["referrer_host"].items()):
            self.writers["sources"].writerow(
                (text, source_name(host) or host, host, "", "", "", "", "", views, visitors,
                 visitors, 0, 0)
            )  # fmt: skip
        for value, (views, visitors) in sorted(dims["country"].items()):
            self.writers["locations"].writerow((text, value, "", 0, *_common(views, visitors)))
        for value, (views, visitors) in sorted(dims["device"].items()):
            self.writers["devices"].writerow((text, value.capitalize(), *_common(views, visitors)))
        for table, kind in (("browsers", "browser"), ("operating_systems", "os")):
            for name, version, views, visitors in _versions(dims[kind], dims[f"{kind}_version"]):
                self.writers[table].writerow((text, name, version, *_common(views, visitors)))
        for value, (views, visitors) in sorted(dims["event"].items()):
            self.writers["custom_events"].writerow((text, value, "", "", visitors, views))
        for value, (views, visitors) in sorted(dims["entry_page"].items()):
            # our entry_page page views are entrances: visits that started on the page
            self.writers["entry_pages"].writerow((text, value, visitors, views, 0, 0))

    def write_zip(self, target: IO[bytes]) -> None:
        first = (self.first or datetime.now(UTC).date()).strftime("%Y%m%d")
        last = (self.last or datetime.now(UTC).date()).strftime("%Y%m%d")
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            for table, buffer in self.buffers.items():
                archive.writestr(f"imported_{table}_{first}_{last}.csv", buffer.getvalue())


def write_plausible(rows: Iterable[RollupRow], target: IO[bytes], *, domain: str) -> int:
    """Write the daily and dimension rows as a Plausible CSV export zip; returns the number
    of days. The tables are built in memory (their size is that of the daily rollups,
    not of the traffic)."""
    writer = PlausibleWriter(domain)
    day_rows: list[RollupRow] = []
    current: date | None = None
    days = 0
    for row in sorted(
        (r for r in rows if r.table in {"daily", "dimension"}),
        key=lambda r: r.day or date.min,
    ):
        if row.day != current and day_rows:
            writer.add_day(day_rows[0].day or date.min, day_rows)
            days += 1
            day_rows = []
        current = row.day
        day_rows.append(row)
    if day_rows:
        writer.add_day(day_rows[0].day or date.min, day_rows)
        days += 1
    writer.write_zip(target)
    return days
