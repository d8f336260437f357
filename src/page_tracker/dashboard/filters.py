"""The filters a dashboard URL asks for: ``page`` and at most one of ``referrer``,
``country``, ``device``, ``browser``, ``os`` or ``campaign`` (what the stats service
crosses: pages with each dimension, never two dimensions). A click on a page row sets or
replaces the page filter, a click on another row the dimension filter; two dimension
filters in a URL are refused with a notice that offers to remove either (:class:`TooMany`).

Dimension filters count whole UTC days (dimensions are rolled up per UTC day): with one,
the page shows UTC days and says so.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from flask_babel import gettext as _

from page_tracker.errors import Unprocessable
from page_tracker.stats.filters import Filter
from page_tracker.stats.models import MAX_PATH_LENGTH, MAX_VALUE_LENGTH

NAMES: Final = ("page", "referrer", "country", "device", "browser", "os", "campaign")
DIMENSIONS: Final = NAMES[1:]  # every filter but the page
DEVICES: Final = frozenset({"desktop", "mobile", "tablet", "other"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_COUNTRY = re.compile(r"[A-Z]{2}")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class Chosen:
    name: str
    value: str

    @property
    def by_utc_days(self) -> bool:
        return self.name != "page"


@dataclass(frozen=True, slots=True)
class Where:
    """The URL's filters: a page, a dimension value, both or none (falsy)."""

    page: Chosen | None = None
    dimension: Chosen | None = None

    def __bool__(self) -> bool:
        return self.page is not None or self.dimension is not None

    @property
    def chosen(self) -> list[Chosen]:
        """The filters in URL order (one chip each)."""
        return [found for found in (self.page, self.dimension) if found is not None]

    @property
    def by_utc_days(self) -> bool:
        return self.dimension is not None

    def has(self, name: str, value: str) -> bool:
        """Whether ``name=value`` is one of the filters (its row is the active one)."""
        return any(found.name == name and found.value == value for found in self.chosen)

    def to_report(self) -> Filter:
        return Filter.of(**{found.name: found.value for found in self.chosen})


class TooMany(Unprocessable):
    """Two dimension filters at once: no rollup counts them together."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(
            _(
                "Filter by one of %(given)s at a time (a page filter may go with it): each "
                "dimension is counted on its own, crossed only with pages, so no number "
                "could follow both.",
                given=", ".join(names),
            )
        )
        self.names = names


def _check(name: str, value: str) -> str:
    limit = MAX_PATH_LENGTH if name == "page" else MAX_VALUE_LENGTH
    if not value or len(value) > limit:
        raise Unprocessable(
            _("%(name)s must have 1 to %(limit)s characters", name=name, limit=limit)
        )
    if _CONTROL.search(value) or _SURROGATE.search(value):
        raise Unprocessable(_("%(name)s must not contain control characters", name=name))
    if name == "page" and not value.startswith("/"):
        raise Unprocessable(_("page must be a path starting with /"))
    if name == "country" and not _COUNTRY.fullmatch(value):
        raise Unprocessable(_("country must be a two-letter code such as DE"))
    if name == "device" and value not in DEVICES:
        raise Unprocessable(
            _("device must be one of %(devices)s", devices=", ".join(sorted(DEVICES)))
        )
    return value


def choose(args: Mapping[str, str]) -> Where:
    """The URL's filters; :class:`Unprocessable` for a bad one, :class:`TooMany` for two
    dimension filters."""
    given = [name for name in NAMES if name in args]
    dimensions = [name for name in given if name != "page"]
    if len(dimensions) > 1:
        raise TooMany(dimensions)
    page = Chosen("page", _check("page", args["page"])) if "page" in given else None
    dimension = (
        Chosen(dimensions[0], _check(dimensions[0], args[dimensions[0]])) if dimensions else None
    )
    return Where(page, dimension)
