"""Plausible's CSV export: a zip (or a folder) of ``[imported_]TABLE_YYYYMMDD_YYYYMMDD.csv``.

Each file is a CSV with a (quoted) header; columns are matched by name, a missing count
column counts as 0 and extra columns are ignored. Every table is daily (``date``,
``YYYY-MM-DD``), so nothing lands in the hourly rollup. What each table fills:

==================  ==========================================================
visitors            the site's days and all-time totals (views and visitors)
pages               the pages' days and totals (``page``)
sources             ``referrer_source`` (``source``), ``referrer_host``
                    (``referrer``'s host) and the ``utm_*`` dimensions
locations           ``country``
devices             ``device`` (lower-cased: desktop, mobile, tablet)
browsers            ``browser`` and ``browser_version``
operating_systems   ``os`` and ``os_version``
custom_events       the ``event`` dimension (``name``, ``events``): not page views
entry_pages         the ``entry_page`` dimension (``entry_page``): ``entrances``
                    as its page views, ``visitors`` as its visitors
exit_pages          read and checked, but page-tracker has no rollup for them
==================  ==========================================================

The site's totals are the ``visitors`` table's sums, whatever the other tables say.
Each table counts one thing on its own (pages, or sources, or countries ...), so nothing
lands in the page x dimension rollup: on imported days a page filter leaves the
dimension tables empty, and a dimension filter the pages table.
A zip is read in place, never extracted: a member whose name leaves the archive
(``../x``, ``/etc/x``) or that inflates suspiciously (a zip bomb) refuses the whole
archive before anything is counted.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import date
from pathlib import Path, PurePosixPath
from typing import IO

from page_tracker.enrich.referrers import referrer as normalise_referrer
from page_tracker.imports.errors import BadInput
from page_tracker.imports.reading import Columns, Row, content_hash, csv_rows, text_lines
from page_tracker.stats.tally import Tally, clip_path

FILE_NAME = re.compile(
    r"(?:imported_)?(visitors|pages|sources|entry_pages|exit_pages|locations|devices|browsers"
    r"|operating_systems|custom_events)_(\d{8})_(\d{8})\.csv"
)
# Order of reading: the site's totals first.
TABLES = (
    "visitors",
    "pages",
    "sources",
    "locations",
    "devices",
    "browsers",
    "operating_systems",
    "custom_events",
    "entry_pages",
    "exit_pages",
)
MAX_UNCOMPRESSED = 4 << 30  # a site's whole history is far below this
MAX_RATIO = 200  # CSV compresses ~10-20x; a far higher ratio is a zip bomb
RATIO_FROM = 1 << 20  # tiny members may compress oddly well
NOT_SET = {"", "(not set)", "Direct / None"}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _safe_member(name: str) -> bool:
    parts = PurePosixPath(name.replace("\\", "/")).parts
    return not (name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]))


class PlausibleImport:
    """A Plausible export (zip or folder) for :class:`~page_tracker.imports.services.
    ImportRunner`; ``site_hosts`` are the site's own hosts (no self-referrals)."""

    source = "plausible"

    def __init__(self, path: Path, site_hosts: set[str]) -> None:
        self.path = path
        self.name = path.name
        self.site_hosts = frozenset(site_hosts)
        self.ignored: list[str] = []
        self.members = self._members()  # (file name, table), checked before any count
        self.content_hash = self._hash()
        self.current = ("", "", Columns([]))  # file, table, header of the row being counted

    # --- the input and its safety -------------------------------------------------
    def _members(self) -> list[tuple[str, str]]:
        if self.path.is_dir():
            names = sorted(p.name for p in self.path.iterdir() if p.is_file())
        else:
            names = self._zip_names()
        found: list[tuple[str, str]] = []
        for name in names:
            match = FILE_NAME.fullmatch(PurePosixPath(name).name)
            if match is None:
                self.ignored.append(name)
                continue
            for text in (match[2], match[3]):
                try:
                    date(int(text[:4]), int(text[4:6]), int(text[6:]))
                except ValueError:
                    raise BadInput(name, None, None, f"no date range in the name: {text}") from None
            found.append((name, match[1]))
        if not found:
            raise BadInput(
                self.name, None, None, "no Plausible export files (imported_visitors_*.csv, ...)"
            )
        return sorted(found, key=lambda item: (TABLES.index(item[1]), item[0]))

    def _zip_names(self) -> list[str]:
        try:
            with zipfile.ZipFile(self.path) as archive:
                infos = archive.infolist()
        except (zipfile.BadZipFile, OSError) as error:
            raise BadInput(self.name, None, None, f"not a zip archive: {error}") from None
        total = 0
        for info in infos:
            if not _safe_member(info.filename):
                raise BadInput(
                    self.name,
                    None,
                    None,
                    f"archive member {info.filename!r} points outside the archive",
                )
            total += info.file_size
            ratio = info.file_size / max(info.compress_size, 1)
            if total > MAX_UNCOMPRESSED or (info.file_size > RATIO_FROM and ratio > MAX_RATIO):
                raise BadInput(
                    self.name,
                    None,
                    None,
                    f"archive member {info.filename!r} inflates {info.compress_size} bytes to "
                    f"{info.file_size} (a zip bomb?): refused",
                )
        return [info.filename for info in infos if not info.is_dir()]

    def _hash(self) -> str:
        if not self.path.is_dir():
            return content_hash(self.path)
        digest = hashlib.sha256()
        for name, _table in sorted(self.members):
            digest.update(f"{name}\x00{content_hash(self.path / name)}\x00".encode())
        return digest.hexdigest()

    def _open(self) -> Callable[[str], AbstractContextManager[IO[bytes]]]:
        if self.path.is_dir():
            return lambda name: (self.path / name).open("rb")
        archive = zipfile.ZipFile(self.path)
        self._archive = archive
        return archive.open

    def rows(self) -> Iterator[Row]:
        opener = self._open()
        try:
            for name, table in self.members:
                with opener(name) as data:
                    rows = csv_rows(name, text_lines(name, data))
                    header = next(rows, None)
                    if header is None:
                        continue
                    columns = Columns(header.fields)
                    if "date" not in columns.index:
                        raise BadInput(name, header.line, None, "no date column in the header")
                    self.current = (name, table, columns)
                    yield from rows
        except zipfile.BadZipFile as error:
            raise BadInput(self.name, None, None, f"broken zip archive: {error}") from None
        finally:
            archive = getattr(self, "_archive", None)
            if archive is not None:
                archive.close()

    # --- counting -----------------------------------------------------------------
    def count(self, row: Row, tally: Tally) -> int:
        name, table, columns = self.current

        def number(column: str) -> int:
            text = columns.get(row.fields, column).strip()
            if not text:
                return 0
            try:
                value = float(text)
            except ValueError:
                value = -1.0
            if value < 0 or value != int(value):
                raise BadInput(
                    name, row.line, columns.column(column), f"expected a count, got {text!r}"
                )
            return int(value)

        if len(row.fields) != len(columns.header):
            raise BadInput(
                name,
                row.line,
                None,
                f"{len(row.fields)} fields, expected {len(columns.header)} as in the header",
            )
        text = columns.get(row.fields, "date").strip()
        try:
            if not _DATE.fullmatch(text):
                raise ValueError(text)
            day = date.fromisoformat(text)
        except ValueError:
            raise BadInput(
                name, row.line, columns.column("date"), f"expected YYYY-MM-DD, got {text!r}"
            ) from None
        if table == "custom_events":
            event = columns.get(row.fields, "name").strip()
            counts = (number("events"), number("visitors"))
            if event:
                _add(tally.dimensions[("event", event, day)], counts)
            return 0
        if table == "entry_pages":
            # An entrance is a visit starting on the page: our entry_page page views.
            entry = self._path(row, columns, "entry_page")
            counts = (number("entrances"), number("visitors"))
            _add(tally.dimensions[("entry_page", entry, day)], counts)
            return 0
        counts = (number("pageviews"), number("visitors"))
        if table == "visitors":
            _add(tally.daily[(None, day)], counts)
            _add(tally.totals[None], counts)
            return counts[0]
        if table == "pages":
            path = self._path(row, columns, "page")
            _add(tally.daily[(path, day)], counts)
            _add(tally.totals[path], counts)
            return 0  # the site's views are the visitors table's
        for kind, value in self._dimensions(table, columns, row.fields):
            _add(tally.dimensions[(kind, value, day)], counts)
        return 0

    def _path(self, row: Row, columns: Columns, column: str) -> str:
        """The path in ``column``, without its query string (none is kept at rest)."""
        page = columns.get(row.fields, column).strip()
        if not page.startswith("/"):
            raise BadInput(
                self.current[0], row.line, columns.column(column), f"not a path: {page!r}"
            )
        return clip_path(page.split("?", 1)[0])

    def _dimensions(
        self, table: str, columns: Columns, fields: list[str]
    ) -> Iterator[tuple[str, str]]:
        def get(column: str) -> str:
            value = columns.get(fields, column).strip()
            return "" if value in NOT_SET else value

        if table == "sources":
            yield from self._sources(get)
        elif table == "locations":
            if country := get("country"):
                yield "country", country.upper()[:2]
        elif table == "devices":
            if device := get("device"):
                yield "device", device.lower()
        elif table in {"browsers", "operating_systems"}:
            kind, column = (
                ("browser", "browser") if table == "browsers" else ("os", "operating_system")
            )
            if value := get(column):
                yield kind, value
                if version := get(f"{column}_version"):
                    yield f"{kind}_version", f"{value} {version}"

    def _sources(self, get: Callable[[str], str]) -> Iterator[tuple[str, str]]:
        if source := get("source"):
            yield "referrer_source", source
        if referrer := get("referrer"):
            host = normalise_referrer(referrer, self.site_hosts).host
            if host:
                yield "referrer_host", host
        for column in ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term"):
            if value := get(column):
                yield column, value

    def drain(self, tally: Tally) -> None:
        return None

    def finish(self, tally: Tally) -> None:
        return None


def _add(target: list[int], counts: tuple[int, int]) -> None:
    target[0] += counts[0]
    target[1] += counts[1]
