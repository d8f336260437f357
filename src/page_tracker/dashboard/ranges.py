"""The range a dashboard URL asks for: ``range=today|7d|30d`` or ``range=custom`` with
``from``/``to`` (ISO dates). Dates are UTC days (time zones are left for later)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask_babel import gettext as _

from page_tracker.errors import Unprocessable

PRESETS = {"today": 1, "7d": 7, "30d": 30}
DEFAULT = "30d"


@dataclass(frozen=True, slots=True)
class Chosen:
    """What the picker shows: the preset (or ``custom``), the dates, the chart's step."""

    name: str
    start: date
    end: date

    @property
    def interval(self) -> str:
        return "hour" if self.start == self.end else "day"


def _date(args: Mapping[str, str], name: str) -> date:
    given = args.get(name, "")
    try:
        return date.fromisoformat(given)
    except ValueError:
        raise Unprocessable(_("%(name)s must be a date such as 2026-01-31", name=name)) from None


def choose(args: Mapping[str, str], *, today: date | None = None) -> Chosen:
    """The range of the query ``args``; :class:`Unprocessable` for one that is not."""
    today = today or datetime.now(UTC).date()
    name = args.get("range", DEFAULT)
    if name in PRESETS:
        return Chosen(name, today - timedelta(days=PRESETS[name] - 1), today)
    if name != "custom":
        raise Unprocessable(_("range must be today, 7d, 30d or custom"))
    start, end = _date(args, "from"), _date(args, "to")
    if start > end:
        raise Unprocessable(_("from is after to"))
    return Chosen(name, start, end)
