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
- a page view adds one to its path's hour, day and all-time total and to the site's
  (hour, day and all-time);
- ``Session`` identifies a visitor per day: the first view of a session on a day adds
  one visitor to the site's hour and day (and to the dimensions of that view), the
  first on a path to the path's hour and day; that first view's path is the visitor's
  entry page that day (one entrance and one visitor of the ``entry_page`` dimension).
  All-time visitors are the sum of daily visitors
  (a returning visitor counts once per day: GoatCounter sessions do not outlive a day).
  Without a session, ``FirstVisit`` 1 marks a new visitor;
- ``Browser``, ``System`` ("Firefox 133", "Windows 10"), ``Location`` ("DE", "US-CA":
  the country), the referrer and the screen width fill the matching dimensions, site-wide
  and (the kinds the dashboard filters by) per page, with the first view of a session
  on the path that day adding the page's visitor. The user agent is not kept, nor a
  path's query string.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

from page_tracker.enrich.referrers import referrer as normalise_referrer
from page_tracker.enrich.screens import screen_class
from page_tracker.imports.errors import BadInput
from page_tracker.imports.reading import Row, content_hash, csv_rows, open_bytes, text_lines
from page_tracker.imports.view_columns import Combos, Dimensions, ViewColumns
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
_FLAGS = {"1": True, "true": True, "0": False, "false": False, "": False}
MAX_REMEMBERED = 100_000  # distinct referrers and paths kept for reuse
GROUPS = 5  # dimension groups of a row: browser, system, location, screen, referrer
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
    """Which sessions were seen on which day (and path)."""

    def __init__(self) -> None:
        self.site: dict[date, set[str]] = {}
        self.pages: dict[date, set[tuple[str, str]]] = {}
        self.newest: date | None = None

    def seen(self, day: date, path: str, session: str) -> tuple[bool, bool]:
        """``(new on the site that day, new on the path that day)``, and remember it."""
        if self.newest is None or day > self.newest:
            self.newest = day
            for old in [d for d in self.site if (day - d).days > OPEN_DAYS]:
                del self.site[old]
                self.pages.pop(old, None)
        site = self.site.get(day)
        if site is None:
            site = self.site[day] = set()
            self.pages[day] = set()
        pages = self.pages[day]
        new_site = session not in site
        if new_site:
            site.add(session)
        page = (path, session)
        new_page = page not in pages
        if new_page:
            pages.add(page)
        return new_site, new_page


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
        self._combos = Combos(GROUPS)
        self._views = ViewColumns()
        self._titles: dict[str, str] = {}
        self._hours: dict[str, tuple[datetime, date]] = {}
        self._paths: dict[str, str] = {}

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
        # The hot loop of a million-row import: rows are checked and their views appended
        # to the chunk's columns (view_columns); drain() counts those once per chunk.
        fields = row.fields
        if len(fields) != len(COLUMNS):
            raise BadInput(
                self.name, row.line, None, f"{len(fields)} fields, expected {len(COLUMNS)}"
            )
        event = _FLAGS.get(fields[EVENT])
        if event is None:
            event = self._flag(row, EVENT)
        bot = _FLAGS.get(fields[BOT])
        if bot is None:
            bot = self._flag(row, BOT)
        first_visit = _FLAGS.get(fields[FIRST])
        if first_visit is None:
            first_visit = self._flag(row, FIRST)
        hour, day = self._hour(row)
        path = self._path(row)
        combo = (fields[BROWSER], fields[SYSTEM], fields[LOCATION], fields[SCREEN],
                 fields[SCHEME], fields[REF])  # fmt: skip
        combo_id = self._combos.ids.get(combo)
        if combo_id is None:
            combo_id = self._combos.add(combo, self._dimensions(row, combo))
        if bot:
            return 0
        if event:
            tally.dimensions[("event", path[:255], day)][0] += 1
            return 0
        session = fields[SESSION]
        if session:
            new_site, new_page = self.sessions.seen(day, path, session)
        else:
            new_site = new_page = first_visit
        views = self._views
        views.paths.append(path)
        views.hours.append(hour)
        views.combos.append(combo_id)
        views.new_pages.append(new_page)
        views.new_sites.append(new_site)
        if fields[TITLE]:
            self._titles[path] = fields[TITLE]
        return 1

    def drain(self, tally: Tally) -> None:
        """Count the chunk's views into ``tally``'s rollups and empty the columns."""
        self._views.drain(tally, self._combos)
        tally.titles.update((path, title.strip()) for path, title in self._titles.items())
        self._titles.clear()
        self._hours.clear()
        self._combos.forget_if_full()

    def finish(self, tally: Tally) -> None:
        self.drain(tally)

    def _path(self, row: Row) -> str:
        raw = row.fields[PATH]
        found = self._paths.get(raw)  # a site's few thousand pages repeat
        if found is None:
            found = self._clean_path(row)
            if len(self._paths) < MAX_REMEMBERED:
                self._paths[raw] = found
        return found

    def _clean_path(self, row: Row) -> str:
        path = row.fields[PATH]
        if "?" in path or "#" in path or path != path.strip():
            path = path.split("?", 1)[0].split("#", 1)[0].strip()  # no query at rest
        if not path:
            raise BadInput(self.name, row.line, _column(PATH), "empty path")
        return clip_path(path)

    def _flag(self, row: Row, index: int) -> bool:
        value = row.fields[index]
        found = _FLAGS.get(value)
        if found is not None:
            return found
        value = value.strip().lower()
        if value in _FLAGS:
            return _FLAGS[value]
        if index == BOT and value.isdigit():
            return True  # GoatCounter's bot kinds are numbers above 0
        raise BadInput(
            self.name,
            row.line,
            _column(index),
            f"expected 0/1 or true/false, got {row.fields[index]!r}",
        )

    def _hour(self, row: Row) -> tuple[datetime, date]:
        """The row's UTC hour (naive) and day."""
        text = row.fields[DATE]
        if len(text) == 20 and text[19] == "Z":  # GoatCounter's own form: UTC, seconds
            found = self._hours.get(text[:13])  # the hours of a chunk repeat
            if found is not None:
                try:
                    datetime.fromisoformat(text)  # still checked whole
                except ValueError:
                    self._time(row)  # raises, naming the column
                return found
        at = self._time(row)
        found = (at.replace(minute=0, second=0, microsecond=0, tzinfo=None), at.date())
        if len(text) == 20 and text[19] == "Z":
            self._hours[text[:13]] = found
        return found

    def _time(self, row: Row) -> datetime:
        text = row.fields[DATE]
        try:
            at = datetime.fromisoformat(text.strip())
        except ValueError:
            raise BadInput(
                self.name, row.line, _column(DATE), f"not an RFC 3339 date: {text!r}"
            ) from None
        offset = at.utcoffset()
        if offset is None:
            raise BadInput(
                self.name,
                row.line,
                _column(DATE),
                f"not an RFC 3339 date (no time zone): {text!r}",
            )
        return at.astimezone(UTC) if offset else at

    def _dimensions(self, row: Row, combo: tuple[str, ...]) -> list[Dimensions]:
        """The dimensions of a row's browser, system, location, screen and referrer, a
        tuple per group (checked; remembered for the next row with the same values)."""
        browser, system, location, screen, scheme, referrer = (text.strip() for text in combo)
        if scheme not in {"", "h", "g", "c", "o"}:
            raise BadInput(
                self.name, row.line, _column(SCHEME), f"expected one of h, g, c, o, got {scheme!r}"
            )
        size: str | None = None
        if screen:
            match = _SCREEN.fullmatch(screen.replace(" ", ""))
            if match is None:
                raise BadInput(
                    self.name, row.line, _column(SCREEN), f"expected w,h,scale, got {screen!r}"
                )
            width, height = int(float(match[1])), int(float(match[2]))
            size = f"{width}x{height}" if width and height else None
        if location and _LOCATION.fullmatch(location) is None:
            raise BadInput(
                self.name,
                row.line,
                _column(LOCATION),
                f"expected a country code such as DE or US-CA, got {location!r}",
            )
        groups: list[Dimensions] = []
        for kind, text in (("browser", browser), ("os", system)):
            found: list[tuple[str, str]] = []
            if text:
                name, version = _name_and_version(text)
                found.append((kind, name))
                if version:
                    found.append((f"{kind}_version", f"{name} {version}"))
            groups.append(tuple(found))
        groups.append((("country", location[:2].upper()),) if location else ())
        screen_kind = screen_class(size) if size else None
        groups.append((("screen_class", screen_kind),) if screen_kind else ())
        groups.append(self._referrer(scheme, referrer))
        return groups

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
            if len(self._referrers) < MAX_REMEMBERED:
                self._referrers[key] = found
        return found
