"""A chunk of imported page views kept column by column and counted in C.

The hot loop of a million-row import appends each view's path, hour, set of dimension
values and visitor flags to plain lists (a few list appends a row, no dict per row);
:meth:`ViewColumns.drain` counts them with :class:`collections.Counter` over ``zip``,
``map`` and ``compress`` (all C) and spreads the sums over a tally's rollups once per
chunk. Exactly the sums a row-by-row count gives: each view adds one page view to its
path's and the site's hour, day and total, and its visitor flags one visitor there.

A view's dimensions are an interned *combination* id (:class:`Combos`): its values in
each group (browser, system, location, screen, referrer) are interned too, so a
dimension is counted per (day, group value) with one ``Counter`` per group, however
many combinations there are.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime
from itertools import compress
from typing import Any

from page_tracker.stats.rollup import PATH_DIMENSIONS
from page_tracker.stats.tally import Tally

Dimensions = tuple[tuple[str, str], ...]  # (kind, value) pairs
MAX_COMBOS = 100_000  # combinations kept between chunks (forgotten after a drain beyond)


class Combos:
    """Ids of dimension combinations: each is one part per group, each part interned."""

    def __init__(self, groups: int) -> None:
        self.groups = groups
        self.ids: dict[Any, int] = {}  # the caller's key of a combination -> id
        self.parts: list[dict[Dimensions, int]] = []
        self.part_values: list[list[Dimensions]] = []
        self.projections: list[list[int]] = []  # per group: combination id -> part
        self._empty()

    def _empty(self) -> None:
        self.ids.clear()
        self.parts = [{} for _ in range(self.groups)]
        self.part_values = [[] for _ in range(self.groups)]
        self.projections = [[] for _ in range(self.groups)]

    def add(self, key: Any, parts: Sequence[Dimensions]) -> int:
        """The id of a new combination: ``parts[g]`` are its dimensions in group g."""
        combo_id = len(self.projections[0])
        for group, dimensions in enumerate(parts):
            known = self.parts[group]
            part = known.get(dimensions)
            if part is None:
                part = known[dimensions] = len(self.part_values[group])
                self.part_values[group].append(dimensions)
            self.projections[group].append(part)
        self.ids[key] = combo_id
        return combo_id

    def forget_if_full(self) -> None:
        """Start over when too many are known (only between chunks: no id is pending)."""
        if len(self.ids) > MAX_COMBOS:
            self._empty()


class ViewColumns:
    """One chunk's page views, column by column."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.hours: list[datetime] = []
        self.combos: list[int] = []
        self.new_pages: list[bool] = []  # a new visitor of the path that day
        self.new_sites: list[bool] = []  # a new visitor of the site that day

    def clear(self) -> None:
        for column in (self.paths, self.hours, self.combos, self.new_pages, self.new_sites):
            column.clear()

    def drain(self, tally: Tally, combos: Combos) -> None:
        """Add the chunk's views to ``tally`` and empty the columns."""
        paths, hours = self.paths, self.hours
        day_of = {hour: hour.date() for hour in set(hours)}
        days = list(map(day_of.__getitem__, hours))
        _add(tally.hourly, Counter(zip(paths, hours, strict=True)),
             Counter(compress(zip(paths, hours, strict=True), self.new_pages)))  # fmt: skip
        _add(tally.daily, Counter(zip(paths, days, strict=True)),
             Counter(compress(zip(paths, days, strict=True), self.new_pages)))  # fmt: skip
        _add(tally.totals, Counter(paths), Counter(compress(paths, self.new_pages)))
        site_hours = Counter(hours)
        site_visitors = Counter(compress(hours, self.new_sites))
        _add(tally.hourly, {(None, h): n for h, n in site_hours.items()},
             {(None, h): n for h, n in site_visitors.items()})  # fmt: skip
        site_days: Counter[date] = Counter()
        site_day_visitors: Counter[date] = Counter()
        for hour, count in site_hours.items():
            site_days[day_of[hour]] += count
            site_day_visitors[day_of[hour]] += site_visitors[hour]
        _add(tally.daily, {(None, d): n for d, n in site_days.items()},
             {(None, d): n for d, n in site_day_visitors.items()})  # fmt: skip
        _add(tally.totals, {None: len(hours)}, {None: sum(self.new_sites)})
        dimensions = tally.dimensions
        # A visitor's first view of the site that day: its path is the entry page.
        entries = Counter(compress(zip(days, paths, strict=True), self.new_sites))
        for (day, path), count in entries.items():
            pair = dimensions[("entry_page", path, day)]
            pair[0] += count
            pair[1] += count
        for group in range(combos.groups):
            part_of = combos.projections[group].__getitem__
            values = combos.part_values[group]
            parts = list(zip(days, map(part_of, self.combos), strict=True))
            visitors = Counter(compress(parts, self.new_sites))
            for key, count in Counter(parts).items():
                day, part = key
                new = visitors.get(key, 0)
                for kind, value in values[part]:
                    pair = dimensions[(kind, value, day)]
                    pair[0] += count
                    pair[1] += new
            self._drain_page_dimensions(tally, combos, group, days)
        self.clear()

    def _drain_page_dimensions(
        self, tally: Tally, combos: Combos, group: int, days: list[date]
    ) -> None:
        """The group's values per page (the kinds the dashboard filters by), with the
        page's visitors."""
        values = combos.part_values[group]
        wanted = {i for i, found in enumerate(values) if _crossed(found)}
        if not wanted:
            return
        part_of = combos.projections[group].__getitem__
        keys = list(zip(days, self.paths, map(part_of, self.combos), strict=True))
        visitors = Counter(compress(keys, self.new_pages))
        target = tally.path_dimensions
        for key, count in Counter(keys).items():
            day, path, part = key
            if part not in wanted:
                continue
            new = visitors.get(key, 0)
            for kind, value in values[part]:
                if kind in PATH_DIMENSIONS:
                    pair = target[(path, kind, value, day)]
                    pair[0] += count
                    pair[1] += new


def _crossed(dimensions: Dimensions) -> bool:
    return any(kind in PATH_DIMENSIONS for kind, _ in dimensions)


def _add(target: Any, views: Any, visitors: Any) -> None:
    """``target[key] += [views, visitors]`` for every key of ``views``."""
    for key, count in views.items():
        new = visitors.get(key, 0)
        pair = target.get(key)
        if pair is None:
            target[key] = [count, new]
        else:
            pair[0] += count
            pair[1] += new
