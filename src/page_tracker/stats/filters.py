"""What a statistics read may be narrowed to, and which breakdowns can follow it.

A :class:`Filter` holds a page path, one dimension value (``referrer``, ``country``,
``device``, ``browser``, ``os``, ``campaign``, ``entry_page``), or both. Two dimension
filters are refused (:data:`TWO_DIMENSIONS`, :class:`~page_tracker.errors.ValidationFailed`,
400): nothing crosses two dimensions. :func:`blocking` names the filter a breakdown cannot
follow (:data:`OTHER_DIMENSION`, :data:`NOT_PER_PAGE`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from page_tracker.errors import ValidationFailed
from page_tracker.stats.rollup import PATH_DIMENSIONS

FILTER_KINDS: Final = {
    "referrer": "referrer_host",
    "country": "country",
    "device": "device",
    "browser": "browser",
    "os": "os",
    "campaign": "utm_campaign",
    "entry_page": "entry_page",
}


@dataclass(frozen=True, slots=True)
class Filter:
    """A page path, a dimension ``kind`` (referrer_host, country, device, browser, os,
    utm_campaign, entry_page) with its ``value``, or both."""

    page: str | None = None
    kind: str | None = None
    value: str | None = None

    @classmethod
    def of(cls, **given: str | None) -> Filter:
        """``Filter.of(page=..., referrer=..., country=..., device=..., browser=..., os=...,
        campaign=..., entry_page=...)``: the page and at most one of the others (two
        dimension filters: :class:`ValidationFailed`, see :data:`TWO_DIMENSIONS`)."""
        chosen = {name: value for name, value in given.items() if value is not None}
        page = chosen.pop("page", None)
        if len(chosen) > 1:
            raise ValidationFailed(
                TWO_DIMENSIONS.format(names=", ".join(sorted(chosen))),
                details={"filters": sorted(chosen)},
                error_code=40010,
            )
        if not chosen:
            return cls(page=page)
        ((name, value),) = chosen.items()
        return cls(page=page, kind=FILTER_KINDS[name], value=value)

    @property
    def name(self) -> str | None:
        """The dimension filter's parameter name (``country``), ``None`` without one."""
        return None if self.kind is None else FILTER_NAMES[self.kind]


FILTER_NAMES: Final = {kind: name for name, kind in FILTER_KINDS.items()}
TWO_DIMENSIONS: Final = (
    "filter by one of {names} at a time (a page filter may go with it): dimensions are "
    "counted each on its own, crossed only with pages, so no count follows two of them"
)
OTHER_DIMENSION: Final = (
    "the {table} breakdown cannot follow the {name} filter: dimensions are counted each on "
    "its own, crossed only with pages (remove the {name} filter, or filter by a page)"
)
NOT_PER_PAGE: Final = (
    "the {table} breakdown cannot follow the {name} filter: its values are not counted per page"
)


def blocking(kind: str | None, where: Filter) -> str | None:
    """The filter of ``where`` (its parameter name) that a breakdown listing dimension
    ``kind`` (``None``: pages) cannot follow, or ``None`` when it follows them all: no
    rollup crosses two dimensions, and pages are crossed only with
    :data:`~page_tracker.stats.rollup.PATH_DIMENSIONS`."""
    if where.kind is not None:
        crossed = where.kind in PATH_DIMENSIONS
        if (kind is None and not crossed) or (kind is not None and kind != where.kind):
            return where.name
    if where.page is not None and kind is not None and kind not in PATH_DIMENSIONS:
        return "page"
    return None
