"""The one cleaning step every hit passes before it is judged (:func:`normalise`).

What the edge accepts must be storable everywhere: SQLite, MariaDB and PostgreSQL
(psycopg refuses a NUL byte, every driver a lone surrogate, which cannot be encoded as
UTF-8) and the Redis stream. And what is stored is shown to operators later, so a
control character in a page path must not reach their terminal. Every ingest route
(``/api/v1/hits``, ``/count.gif``, Busuanzi, ``/api/event``; the Flask views and the
lean WSGI path alike) reaches :func:`page_tracker.ingest.verdict.process`, which starts
with :func:`normalise`; so there is one place that decides, whichever way a hit came.

The rules, for every text field of a :class:`RawHit`:

- control characters (C0, DEL, C1; NUL and ESC among them) are removed;
- a lone surrogate (``"\\ud800"``, valid in JSON, not in UTF-8) and the Unicode
  non-characters (U+FDD0..U+FDEF, U+xFFFE, U+xFFFF) become U+FFFD;
- lengths are capped: a user agent at :data:`MAX_USER_AGENT`, a referrer at
  :data:`MAX_REFERRER`, a screen at :data:`MAX_SCREEN` (a page URL over 2 048
  characters stays malformed, a title and a path are cut where they are stored).

A field that is printable already (``str.isprintable``, one pass in C) is returned as
it is: the usual hit costs a few string scans.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Final

from page_tracker.ingest.hits import RawHit

MAX_USER_AGENT: Final = 1024
MAX_REFERRER: Final = 2048
MAX_SCREEN: Final = 32
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]+")
_UNSTORABLE = re.compile(
    "[\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]"
    + "|["
    + "".join(f"\\U{plane:04x}fffe\\U{plane:04x}ffff" for plane in range(1, 17))
    + "]"
)


def clean_text(value: str, max_length: int | None = None) -> str:
    """``value`` without control characters, its unstorable code points replaced by
    U+FFFD, cut to ``max_length``."""
    if not value.isprintable():
        value = _UNSTORABLE.sub("\ufffd", _CONTROLS.sub("", value))
    return value if max_length is None else value[:max_length]


def _optional(value: str | None, max_length: int | None = None) -> str | None:
    return None if value is None else clean_text(value, max_length)


def _clean_already(raw: RawHit) -> bool:
    """True for the usual hit: every field printable and within its length."""
    for value in (
        raw.site_id,
        raw.url,
        raw.host,
        raw.path,
        raw.title,
        raw.event,
        raw.visitor_token,
    ):
        if value is not None and not value.isprintable():
            return False
    return (
        raw.user_agent.isprintable()
        and len(raw.user_agent) <= MAX_USER_AGENT
        and (
            raw.referrer is None
            or (raw.referrer.isprintable() and len(raw.referrer) <= MAX_REFERRER)
        )
        and (raw.screen is None or (raw.screen.isprintable() and len(raw.screen) <= MAX_SCREEN))
    )


def normalise(raw: RawHit) -> RawHit:
    """``raw`` with every text field storable (see the module docstring)."""
    if _clean_already(raw):
        return raw
    return replace(
        raw,
        site_id=_optional(raw.site_id),
        url=clean_text(raw.url),
        user_agent=clean_text(raw.user_agent, MAX_USER_AGENT),
        host=_optional(raw.host),
        path=_optional(raw.path),
        referrer=_optional(raw.referrer, MAX_REFERRER),
        title=_optional(raw.title),
        screen=_optional(raw.screen, MAX_SCREEN),
        event=_optional(raw.event),
        visitor_token=_optional(raw.visitor_token),
    )
