"""Import files written from the published formats (issue 11), never copied from
another project: GoatCounter's CSV export v2, Plausible's CSV export, Busuanzi counts."""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

GOATCOUNTER_HEADER = (
    "2Path,Title,Event,UserAgent,Browser,System,Session,Bot,Referrer,Referrer scheme,"
    "Screen size,Location,FirstVisit,Date"
)
FIREFOX_UA = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


@dataclass(frozen=True)
class GoatView:
    """One row of a GoatCounter export (defaults: a Firefox page view from Germany)."""

    path: str = "/"
    at: datetime = datetime(2025, 3, 1, 9, 15, tzinfo=UTC)
    session: str = "s1"
    title: str = "Home"
    event: str = "false"
    bot: str = "0"
    browser: str = "Firefox 133"
    system: str = "Linux"
    referrer: str = ""
    scheme: str = ""
    screen: str = "1920,1080,1"
    location: str = "DE"
    first_visit: str = "1"

    def fields(self) -> list[str]:
        return [
            self.path,
            self.title,
            self.event,
            FIREFOX_UA,
            self.browser,
            self.system,
            self.session,
            self.bot,
            self.referrer,
            self.scheme,
            self.screen,
            self.location,
            self.first_visit,
            self.at.isoformat().replace("+00:00", "Z"),
        ]


def goatcounter_text(views: Iterable[GoatView], header: str = GOATCOUNTER_HEADER) -> str:
    out = io.StringIO()
    out.write(header + "\r\n")
    writer = csv.writer(out, lineterminator="\r\n")
    for view in views:
        writer.writerow(view.fields())
    return out.getvalue()


def write_goatcounter(
    path: Path, views: Iterable[GoatView], *, header: str = GOATCOUNTER_HEADER, gz: bool = False
) -> Path:
    data = goatcounter_text(views, header).encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def sample_views() -> list[GoatView]:
    """Two days of a small blog: 7 page views by 3 sessions, a bot and an event."""
    day1 = datetime(2025, 3, 1, 9, 15, tzinfo=UTC)
    day2 = day1 + timedelta(days=1)
    return [
        GoatView("/", day1, "a", referrer="news.ycombinator.com/item", scheme="h"),
        GoatView("/post", day1 + timedelta(minutes=5), "a", title="A post", first_visit="1"),
        GoatView("/post", day1 + timedelta(hours=2), "b", browser="Chrome 131", system="Windows 10",
                 location="US-CA", screen="390,844,3", referrer="Hacker News", scheme="g"),
        GoatView("/post", day1 + timedelta(hours=2, minutes=1), "b", first_visit="0"),
        GoatView("/", day2, "a"),
        GoatView("/", day2 + timedelta(minutes=1), "c", referrer="spring", scheme="c"),
        GoatView("/post", day2 + timedelta(minutes=2), "c"),
        GoatView("/robots", day2, "x", bot="7"),
        GoatView("signup-click", day2, "c", event="true", title=""),
    ]  # fmt: skip


def write_plausible_csv(
    path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]
) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL)
        out.write(",".join(f'"{name}"' for name in header) + "\n")
        for row in rows:
            writer.writerow(row)
    return path
