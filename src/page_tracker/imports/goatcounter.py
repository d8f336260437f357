"""GoatCounter's CSV export, version 2: one row per page view.

The header is exactly :data:`HEADER`: ``2Path,Title,Event,UserAgent,Browser,System,
Session,Bot,Referrer,Referrer scheme,Screen size,Location,FirstVisit,Date`` on one line
(the version digit glued to the first name), and each row has those 14 fields.
``Event``, ``Bot`` and ``FirstVisit`` are ``0``/``1`` or ``true``/``false`` (``Bot``
may be any bot number: not 0 is a bot),
``Screen size`` is ``w,h,scale``, ``Referrer scheme`` one of ``h`` (http), ``g``
(generated: a name such as "Hacker News"), ``c`` (campaign), ``o`` (other), ``Date`` is
RFC 3339. How rows count:

- bot rows are skipped; event rows (``Event`` 1) count in the ``event`` dimension only,
  they are not page views;
- a page view adds one to its path's hour, day and all-time total and to the site's;
- ``Session`` identifies a visitor per day: the first view of a session on a day adds
  one visitor to the site's day (and to the dimensions of that view), the first on a
  path to the path's hour and day. All-time visitors are the sum of daily visitors
  (a returning visitor counts once per day: GoatCounter sessions do not outlive a day).
  Without a session, ``FirstVisit`` 1 marks a new visitor;
- ``Browser``, ``System`` ("Firefox 133", "Windows 10"), ``Location`` ("DE", "US-CA":
  the country), the referrer and the screen width fill the matching dimensions. The
  user agent is not kept, nor a path's query string.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from page_tracker.enrich.referrers import referrer as normalise_referrer
from page_tracker.enrich.screens import screen_class
from page_tracker.imports.errors import BadInput
from page_tracker.imports.reading import Row, content_hash, csv_rows, open_bytes, text_lines
from page_tracker.stats.tally import Tally, clip_path

VERSION = "2"
COLUMNS = (
    "Path",
    "Title",
    "Event",
    "UserAgent",
    "Browser",
    "System",
    "Session",
    "Bot",
    "Referrer",
    "Referrer scheme",
    "Screen size",
    "Location",
    "FirstVisit",
    "Date",
)
HEADER = VERSION + ",".join(COLUMNS)
(PATH, TITLE, EVENT, _AGENT, BROWSER, SYSTEM, SESSION, BOT, REF, SCHEME, SCREEN, LOCATION,
 FIRST, DATE) = range(len(COLUMNS))  # fmt: skip
_TRUE = {"1", "true"}
_FALSE = {"0", "false", ""}
_LOCATION = re.compile(r"([A-Za-z]{2})(-[A-Za-z0-9]{1,3})?")
_SCREEN = re.compile(r"(\d{1,6}(?:\.\d+)?),(\d{1,6}(?:\.\d+)?),(\d{1,3}(?:\.\d+)?)")
# Days kept open for visitor sessions behind the newest day seen: exports are in time
# order, so older days are complete; memory stays bounded by a few days' sessions.
OPEN_DAYS = 2


def _column(index: int) -> str:
    return f"{index + 1} ({COLUMNS[index]})"


@functools.lru_cache(maxsize=1024)
def _name_and_version(value: str) -> tuple[str, str]:
    """``"Firefox 133.0"`` -> ``("Firefox", "133.0")``; no version -> ``""``."""
    name, _, version = value.strip().rpartition(" ")
    if name and version[:1].isdigit():
        return name, version
    return value.strip(), ""


class DailySessions:
    """Which sessions were seen on which day (and path), as 8-byte digests."""

    def __init__(self) -> None:
        self.site: dict[date, set[bytes]] = {}
        self.pages: dict[date, set[tuple[str, bytes]]] = {}
        self.newest: date | None = None

    def seen(self, day: date, path: str, session: str) -> tuple[bool, bool]:
        """``(new on the site that day, new on the path that day)``, and remember it."""
        if self.newest is None or day > self.newest:
            self.newest = day
            for old in [d for d in self.site if (day - d).days > OPEN_DAYS]:
                del self.site[old]
                self.pages.pop(old, None)
        digest = hashlib.blake2b(session.encode(), digest_size=8).digest()
        site = self.site.setdefault(day, set())
        pages = self.pages.setdefault(day, set())
        new_site = digest not in site
        new_page = (path, digest) not in pages
        site.add(digest)
        pages.add((path, digest))
        return new_site, new_page


@dataclass(frozen=True, slots=True)
class _View:
    path: str
    title: str
    event: bool
    session: str
    first_visit: bool
    at: datetime
    dimensions: tuple[tuple[str, str], ...]


class GoatCounterImport:
    """An export file (plain or ``.gz``) for :class:`~page_tracker.imports.services.
    ImportRunner`; ``site_hosts`` are the site's own hosts (no self-referrals)."""

    source = "goatcounter"

    def __init__(self, path: Path, site_hosts: Collection[str]) -> None:
        self.path = path
        self.name = path.name
        self.content_hash = content_hash(path)
        self.site_hosts = frozenset(site_hosts)
        self.sessions = DailySessions()
        self.bytes_read = 0
        self._referrers: dict[str, tuple[tuple[str, str], ...]] = {}

    def size(self) -> int:
        return self.path.stat().st_size

    def rows(self) -> Iterator[Row]:
        raw, data = open_bytes(self.path)
        with raw, data:
            rows = csv_rows(self.name, text_lines(self.name, data))
            header = next(rows, None)
            self._check_header(header)
            for row in rows:
                self.bytes_read = raw.tell()
                yield row

    def _check_header(self, header: Row | None) -> None:
        if header is None:
            raise BadInput(self.name, 1, None, "empty file: no GoatCounter header line")
        first = header.fields[0]
        version = first[: len(first) - len(first.lstrip("0123456789"))]
        if version != VERSION:
            shown = version or "none"
            raise BadInput(
                self.name,
                header.line,
                _column(PATH),
                f"GoatCounter export version {shown} is not supported (expected a header "
                f"starting with {HEADER[:6]!r}: version {VERSION})",
            )
        names = [first[len(version) :], *header.fields[1:]]
        if tuple(names) != COLUMNS:
            raise BadInput(
                self.name,
                header.line,
                None,
                f"not a GoatCounter export header (expected {HEADER!r})",
            )

    def count(self, row: Row, tally: Tally) -> int:
        view = self._parse(row)
        if view is None:
            return 0
        day = view.at.date()
        if view.event:
            tally.dimensions[("event", view.path[:255], day)][0] += 1
            return 0
        hour = view.at.replace(minute=0, second=0, microsecond=0, tzinfo=None)
        if view.session:
            new_site, new_page = self.sessions.seen(day, view.path, view.session)
        else:
            new_site = new_page = view.first_visit
        site_uv, page_uv = int(new_site), int(new_page)
        for counts in (tally.hourly[(view.path, hour)], tally.daily[(view.path, day)]):
            counts[0] += 1
            counts[1] += page_uv
        for counts in (tally.totals[view.path],):
            counts[0] += 1
            counts[1] += page_uv
        site_day = tally.daily[(None, day)]
        site_day[0] += 1
        site_day[1] += site_uv
        site_total = tally.totals[None]
        site_total[0] += 1
        site_total[1] += site_uv
        for kind, value in view.dimensions:
            counts = tally.dimensions[(kind, value, day)]
            counts[0] += 1
            counts[1] += site_uv
        if view.title:
            tally.titles[view.path] = view.title
        return 1

    def finish(self, tally: Tally) -> None:
        return None

    def _parse(self, row: Row) -> _View | None:  # noqa: PLR0912 - one check per column
        fields = row.fields
        if len(fields) != len(COLUMNS):
            raise BadInput(
                self.name, row.line, None, f"{len(fields)} fields, expected {len(COLUMNS)}"
            )

        def bad(index: int, problem: str) -> BadInput:
            return BadInput(self.name, row.line, _column(index), problem)

        flags = []
        for index in (EVENT, BOT, FIRST):
            value = fields[index].strip().lower()
            if value in _TRUE:
                flags.append(True)
            elif value in _FALSE:
                flags.append(False)
            elif index == BOT and value.isdigit():
                flags.append(True)  # GoatCounter's bot kinds are numbers above 0
            else:
                raise bad(index, f"expected 0/1 or true/false, got {fields[index]!r}")
        event, bot, first_visit = flags
        try:
            at = datetime.fromisoformat(fields[DATE].strip())
        except ValueError:
            raise bad(DATE, f"not an RFC 3339 date: {fields[DATE]!r}") from None
        if at.tzinfo is None:
            raise bad(DATE, f"not an RFC 3339 date (no time zone): {fields[DATE]!r}")
        path = fields[PATH].split("?", 1)[0].split("#", 1)[0].strip()
        if not path:
            raise bad(PATH, "empty path")
        scheme = fields[SCHEME].strip()
        if scheme not in {"", "h", "g", "c", "o"}:
            raise bad(SCHEME, f"expected one of h, g, c, o, got {scheme!r}")
        screen = fields[SCREEN].strip()
        size: str | None = None
        if screen:
            match = _SCREEN.fullmatch(screen.replace(" ", ""))
            if match is None:
                raise bad(SCREEN, f"expected w,h,scale, got {screen!r}")
            width, height = int(float(match[1])), int(float(match[2]))
            size = f"{width}x{height}" if width and height else None
        location = fields[LOCATION].strip()
        if location and _LOCATION.fullmatch(location) is None:
            raise bad(LOCATION, f"expected a country code such as DE or US-CA, got {location!r}")
        if bot:
            return None
        return _View(
            path=clip_path(path),
            title=fields[TITLE].strip(),
            event=event,
            session=fields[SESSION].strip(),
            first_visit=first_visit,
            at=at.astimezone(UTC),
            dimensions=self._dimensions(fields, location, size, scheme),
        )

    def _dimensions(
        self, fields: list[str], location: str, size: str | None, scheme: str
    ) -> tuple[tuple[str, str], ...]:
        dimensions: list[tuple[str, str]] = []
        if fields[BROWSER].strip():
            name, version = _name_and_version(fields[BROWSER])
            dimensions.append(("browser", name))
            if version:
                dimensions.append(("browser_version", f"{name} {version}"))
        if fields[SYSTEM].strip():
            name, version = _name_and_version(fields[SYSTEM])
            dimensions.append(("os", name))
            if version:
                dimensions.append(("os_version", f"{name} {version}"))
        if location:
            dimensions.append(("country", location[:2].upper()))
        if size and (found := screen_class(size)):
            dimensions.append(("screen_class", found))
        dimensions.extend(self._referrer(scheme, fields[REF].strip()))
        return tuple(dimensions)

    def _referrer(self, scheme: str, value: str) -> tuple[tuple[str, str], ...]:
        if not value:
            return ()
        key = f"{scheme}\x00{value}"
        found = self._referrers.get(key)
        if found is None:
            if scheme in {"h", ""}:
                ref = normalise_referrer(value.split("?", 1)[0], self.site_hosts)
                found = tuple(
                    (kind, text)
                    for kind, text in (("referrer_host", ref.host), ("referrer_source", ref.source))
                    if text
                )
            elif scheme == "c":
                found = (("utm_campaign", value[:255]),)
            else:  # generated ("Hacker News") or other ("android-app://...")
                found = (("referrer_source", value[:255]),)
            if len(self._referrers) < 100_000:
                self._referrers[key] = found
        return found
