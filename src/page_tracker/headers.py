"""Headers every answer carries, on both ways in (Flask and the lean path).

``X-Content-Type-Options: nosniff`` on every answer: a browser must take a script as
a script, an SVG as an image and JSON as data, never sniff one as another (a JSONP
answer or an error body read as HTML). SVG answers also carry :data:`SVG_CSP`, so an
SVG opened on its own can neither run script nor load anything.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from flask import Flask, Response

NOSNIFF = ("X-Content-Type-Options", "nosniff")
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


def lean_headers(present: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """The headers an answer with headers ``present`` lacks (both ways in use this)."""
    if isinstance(present, tuple):  # the lean path: a route's few header tuples, cached
        return _lacking_cached(present)
    return _lacking(present)


def _lacking(present: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    names = {name.lower(): value for name, value in present}
    added: tuple[tuple[str, str], ...] = () if "x-content-type-options" in names else (NOSNIFF,)
    svg = names.get("content-type", "").split(";")[0].strip() == "image/svg+xml"
    if svg and "content-security-policy" not in names:
        added += (("Content-Security-Policy", SVG_CSP),)
    return added


# The lean routes answer with a few fixed header sets (per status and reason), so the
# answer per set is kept; a route with varying headers only evicts older entries.
_lacking_cached = functools.lru_cache(maxsize=256)(_lacking)


def _secure(response: Response) -> Response:
    response.headers.extend(lean_headers(response.headers.items()))
    return response


def init_app(app: Flask) -> None:
    app.after_request(_secure)
