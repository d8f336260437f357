"""Our own export read back (``page-tracker import page-tracker``): CSV or JSON Lines,
as written by :mod:`page_tracker.imports.export`. Each row is added to the rollup row
it came from, so export -> import into a new site gives identical statistics."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from page_tracker.imports.errors import BadInput
from page_tracker.imports.export import CSV_HEADER, FORMAT, VERSION
from page_tracker.imports.reading import Row, content_hash, csv_rows, open_bytes, text_lines
from page_tracker.imports.rollup_rows import TABLES
from page_tracker.stats.tally import Tally, clip_path

_COLUMNS = {name: index for index, name in enumerate(CSV_HEADER)}


def _target(
    tally: Tally, table: str, path: str | None, dimension: tuple[str, str], when: Any
) -> list[int]:
    """The tally's counts a row of ``table`` adds to (``when``: its hour or day)."""
    if table == "hourly":
        return tally.hourly[(path, when)]
    if table == "daily":
        return tally.daily[(path, when)]
    if table == "dimension":
        return tally.dimensions[(*dimension, when)]
    if table == "page_dimension":
        return tally.path_dimensions[(path or "", *dimension, when)]
    return tally.totals[path]


class OwnExportImport:
    """A page-tracker export file (CSV or JSON Lines, plain or gzipped)."""

    source = "page-tracker"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = path.name
        self.content_hash = content_hash(path)
        self.json = False

    def rows(self) -> Iterator[Row]:
        raw, data = open_bytes(self.path)
        with raw, data:
            lines = text_lines(self.name, data)
            first = next(lines, "")
            if first.lstrip().startswith("{"):
                self.json = True
                self._check_json_header(first)
                for number, line in enumerate(lines, start=2):
                    if line.strip():
                        yield Row(number, [line])
                return
            header = next(csv_rows(self.name, iter([first])), None)
            if header is None or tuple(header.fields) != CSV_HEADER:
                raise BadInput(
                    self.name,
                    1,
                    None,
                    f"not a page-tracker export (expected {','.join(CSV_HEADER)!r})",
                )
            for row in csv_rows(self.name, lines):
                yield Row(row.line + 1, row.fields)

    def _check_json_header(self, line: str) -> None:
        try:
            header = json.loads(line)
        except ValueError as error:
            raise BadInput(self.name, 1, None, f"not JSON: {error}") from None
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise BadInput(self.name, 1, None, f"not a page-tracker export (no format {FORMAT!r})")
        if header.get("version") != VERSION:
            raise BadInput(
                self.name,
                1,
                "version",
                f"export version {header.get('version')!r} is not {VERSION}",
            )

    def _fields(self, row: Row) -> dict[str, str]:
        if not self.json:
            if len(row.fields) != len(CSV_HEADER):
                raise BadInput(
                    self.name,
                    row.line,
                    None,
                    f"{len(row.fields)} fields, expected {len(CSV_HEADER)}",
                )
            return dict(zip(CSV_HEADER, row.fields, strict=True))
        try:
            item = json.loads(row.fields[0])
        except ValueError as error:
            raise BadInput(self.name, row.line, None, f"not JSON: {error}") from None
        if not isinstance(item, dict):
            raise BadInput(self.name, row.line, None, "not a JSON object")
        return {
            name: str(item.get(name, "") if item.get(name) is not None else "")
            for name in CSV_HEADER
        }

    def count(self, row: Row, tally: Tally) -> int:
        fields = self._fields(row)

        def bad(column: str, problem: str) -> BadInput:
            where = f"{_COLUMNS[column] + 1} ({column})" if not self.json else column
            return BadInput(self.name, row.line, where, problem)

        table = fields["table"]
        if table not in TABLES:
            raise bad("table", f"expected one of {', '.join(TABLES)}, got {table!r}")
        numbers = []
        for column in ("pageviews", "visitors"):
            text = fields[column].strip()
            if not text.isdigit():
                raise bad(column, f"expected a count, got {text!r}")
            numbers.append(int(text))
        views, visitors = numbers
        path = clip_path(fields["path"]) if fields["path"] else None
        moment = fields["time"].strip()
        when: datetime | date | None = None
        try:
            if table == "hourly":
                hour = datetime.fromisoformat(moment)
                if hour.tzinfo is None:
                    raise ValueError(moment)
                when = hour.replace(tzinfo=None)
            elif table in {"daily", "dimension", "page_dimension"}:
                when = date.fromisoformat(moment)
        except ValueError:
            raise bad(
                "time", f"not a {'time' if table == 'hourly' else 'day'}: {moment!r}"
            ) from None
        kind, value = fields["dimension"], fields["value"]
        if "dimension" in table and not (kind and value and (path or table == "dimension")):
            needs = "a dimension" if table == "dimension" else "a path, a dimension"
            raise bad("dimension", f"a {table} row needs {needs} and a value")
        target = _target(tally, table, path, (kind, value), when)
        target[0] += views
        target[1] += visitors
        return views if table == "daily" and path is None else 0

    def drain(self, tally: Tally) -> None:
        return None

    def finish(self, tally: Tally) -> None:
        return None
