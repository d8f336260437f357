"""The filter a dashboard URL asks for: one of ``page``, ``referrer``, ``country``,
``device``, ``browser``, ``os`` or ``campaign`` (the stats service's filters; it applies one
at a time, so a new filter replaces the old one).

Dimension filters count whole UTC days (dimensions are rolled up per UTC day): with one,
the page shows UTC days (:func:`counted_in_utc_days`) and says so.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from flask_babel import gettext as _

from page_tracker.errors import Unprocessable
from page_tracker.stats import report
from page_tracker.stats.models import MAX_PATH_LENGTH, MAX_VALUE_LENGTH

NAMES: Final = ("page", "referrer", "country", "device", "browser", "os", "campaign")
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

    def to_report(self) -> report.Filter:
        return report.Filter.of(**{self.name: self.value})


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


def choose(args: Mapping[str, str]) -> Chosen | None:
    """The URL's filter (``None``: none); :class:`Unprocessable` for a bad one or two."""
    given = [name for name in NAMES if name in args]
    if len(given) > 1:
        raise Unprocessable(_("one filter at a time, not %(given)s", given=", ".join(given)))
    if not given:
        return None
    name = given[0]
    return Chosen(name, _check(name, args[name]))
