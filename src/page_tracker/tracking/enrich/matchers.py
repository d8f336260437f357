"""Ordered regular-expression lists matched with the Rust ``regex`` crate.

Python's ``re`` scans a long alternation such as ``curl|wget|...`` or 1 500 crawler
patterns position by position: 20 to 400 µs per User-Agent header. ua-parser's Rust
accelerator ``ua-parser-rs`` (already installed for ua-parser) exposes an extractor for
exactly this job, an ordered list of (pattern, flags, replacement) rules where the first
matching rule wins, at about 1 µs per header. Its regex dialect is Rust's: no
look-around and no back-references.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import ua_parser_rs


class FirstMatch:
    """The label of the first rule whose pattern is found in a text (a search, not a full
    match), or ``None``. A label may use ``$1`` for the pattern's first group."""

    def __init__(self, rules: Iterable[tuple[str, str]], *, ignore_case: bool = False) -> None:
        flag: Literal["i"] | None = "i" if ignore_case else None
        self._extractor = ua_parser_rs.DeviceExtractor(
            (pattern, flag, label, None, None) for pattern, label in rules
        )

    def __call__(self, text: str) -> str | None:
        found = self._extractor.extract(text)
        return None if found is None else found.family
