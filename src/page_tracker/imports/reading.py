"""Reading import files: content hashes, plain or gzipped bytes, strict UTF-8 lines with
their numbers, and CSV rows that know where they came from.

Everything streams: a file is read once to hash it and once to import it, a line at a
time, so memory does not grow with the file.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from page_tracker.imports.errors import BadInput

HASH_BLOCK = 1 << 20
GZIP_MAGIC = b"\x1f\x8b"
# The csv module refuses fields above 128 KiB by default; no export we read has any.
csv.field_size_limit(1 << 20)

Progress = Callable[[int], None]  # called with the bytes read so far


def content_hash(path: Path) -> str:
    """SHA-256 of the file's bytes (as stored, compressed or not), hex."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def open_bytes(path: Path) -> tuple[IO[bytes], IO[bytes]]:
    """``(raw, data)``: the file, and its content (gunzipped when it is gzip). ``raw``'s
    position tells the progress; the caller closes both."""
    raw = path.open("rb")
    if raw.read(2) == GZIP_MAGIC:
        raw.seek(0)
        return raw, gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    raw.seek(0)
    return raw, raw


def text_lines(name: str, data: IO[bytes]) -> Iterator[str]:
    """The lines of ``data`` decoded as UTF-8 (a BOM is dropped); invalid UTF-8 or a
    broken gzip stream is a :class:`BadInput` naming the line."""
    number = 0
    try:
        for number, raw_line in enumerate(data, start=1):
            try:
                line = raw_line.decode("utf-8")
            except UnicodeDecodeError as error:
                raise BadInput(
                    name, number, None, f"not UTF-8 (byte {error.start + 1} of the line)"
                ) from None
            if number == 1:
                line = line.removeprefix("\ufeff")
            yield line
    except (OSError, EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise BadInput(name, number + 1, None, f"cannot read the file: {error}") from None


@dataclass(frozen=True, slots=True)
class Row:
    """One CSV record: its fields and the line it starts on."""

    line: int
    fields: list[str]


def csv_rows(name: str, lines: Iterator[str]) -> Iterator[Row]:
    """CSV records of ``lines`` (RFC 4180: quoted fields may span lines)."""
    reader = csv.reader(lines, strict=True)
    start = 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise BadInput(name, reader.line_num, None, f"not valid CSV: {error}") from None
        if fields:  # a blank line is no record
            yield Row(start, fields)
        start = reader.line_num + 1


class Columns:
    """A header's column positions by name; missing columns read as ``""``."""

    def __init__(self, header: list[str]) -> None:
        self.header = [name.strip() for name in header]
        self.index = {name: i for i, name in enumerate(self.header)}

    def get(self, fields: list[str], name: str) -> str:
        position = self.index.get(name)
        if position is None or position >= len(fields):
            return ""
        return fields[position]

    def column(self, name: str) -> str:
        """How an error names a column: ``3 (visitors)``."""
        position = self.index.get(name)
        return name if position is None else f"{position + 1} ({name})"
