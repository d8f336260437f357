"""What the OpenAPI document says about the browser's tracking routes: the hit a script
posts (``POST /api/v1/hits``), the pixel's query (``GET /count.gif``), the answers and
the ``X-Page-Tracker-Reason`` header every tracking answer carries.

These models describe; they do not parse (the routes read the WSGI environ, as the lean
path in front of Flask does). Each describes what is surely accepted or judged, never
more: a request the document calls valid is answered as documented.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from page_tracker.ingest.rate_limit import RATE_LIMITED
from page_tracker.ingest.verdict import (
    ACCEPTED,
    BOT,
    DNT,
    HEAD_REQUEST,
    HOST_NOT_ALLOWED,
    MALFORMED,
    MAX_EVENT_LENGTH,
    REJECTED,
    STORE_UNAVAILABLE,
    UNKNOWN_SITE,
)
from page_tracker.json_api import ETAG, Answer, Header

# What the document promises is counted or judged: printable text (a control character
# is removed before the hit is judged, which could leave an event empty).
_PRINTABLE = r"^[^\x00-\x1f\x7f-\x9f]*$"
# An absolute http(s) URL with a plain host name (what a browser's location looks like).
PAGE_URL = r"^https?://[a-z0-9]([a-z0-9.-]{0,60}[a-z0-9])?(/[^\x00-\x1f\x7f-\x9f]*)?$"
MAX_SITE_ID = 64
MAX_URL = 1024
MAX_TITLE = 200
MAX_SCREEN = 32

# Every reason a browser's hit (or a compatibility endpoint's request) is given, in the
# order the hit path judges them.
REASONS = (
    MALFORMED,
    UNKNOWN_SITE,
    HOST_NOT_ALLOWED,
    DNT,
    BOT,
    RATE_LIMITED,
    ACCEPTED,
    STORE_UNAVAILABLE,
    REJECTED,
    HEAD_REQUEST,
)
REASON = Header(
    "Whether the hit was counted (accepted) or why not.",
    {"type": "string", "enum": list(REASONS)},
)
NO_STORE = Header("Never cached: every request counts.", {"type": "string", "pattern": "^no-store"})


class BrowserHit(BaseModel):
    """A hit as ``pt.js`` sends it (also as ``text/plain``); the reader's address,
    User-Agent and DNT/GPC come from the request."""

    site: str = Field(min_length=1, max_length=MAX_SITE_ID, description="The site id.")
    url: str = Field(
        max_length=MAX_URL, pattern=PAGE_URL, description="The page's absolute http(s) URL."
    )
    referrer: str | None = Field(default=None, max_length=MAX_URL, pattern=_PRINTABLE)
    title: str | None = Field(default=None, max_length=MAX_TITLE, pattern=_PRINTABLE)
    screen: str | None = Field(default=None, max_length=MAX_SCREEN, pattern=_PRINTABLE)
    event: str | None = Field(
        default=None, min_length=1, max_length=MAX_EVENT_LENGTH, pattern=r"^[!-~]+$"
    )


class PixelQuery(BaseModel):
    """The pixel's query string (``<img src="/count.gif?site=...">``); the reader's
    address, User-Agent, Referer and DNT/GPC come from the request. A request without a
    site is answered alike, not counted (``malformed``)."""

    site: str = Field(min_length=1, max_length=MAX_SITE_ID, description="The site id.")
    url: str | None = Field(
        default=None,
        max_length=MAX_URL,
        pattern=PAGE_URL,
        description="The page's absolute http(s) URL; default: the Referer header.",
    )
    referrer: str | None = Field(default=None, max_length=MAX_URL, pattern=_PRINTABLE)
    title: str | None = Field(default=None, max_length=MAX_TITLE, pattern=_PRINTABLE)
    screen: str | None = Field(default=None, max_length=MAX_SCREEN, pattern=_PRINTABLE)


HIT_ACCEPTED = Answer(
    headers={"X-Page-Tracker-Reason": REASON},
    description="Taken (no body): counted, or not, as X-Page-Tracker-Reason says.",
)
PIXEL = Answer(
    "image/gif",
    headers={"X-Page-Tracker-Reason": REASON, "Cache-Control": NO_STORE},
    description="The same transparent 1x1 GIF whatever the verdict (X-Page-Tracker-Reason).",
)
TRACKING_SCRIPT = Answer(
    "application/javascript",
    {"type": "string"},
    headers={"ETag": ETAG},
    description='pt.js: embed it as <script defer src="/pt.js" data-site="SITE_ID">.',
)
