"""What the OpenAPI document says about the compatibility endpoints: Busuanzi's JSONP
counter and script, and Plausible's answer (its body is
:class:`~page_tracker.compat.plausible.PlausibleEvent`, the model that parses it).

The request models describe what :mod:`page_tracker.compat.busuanzi` checks, from its
own patterns: a request the document calls valid is answered as documented.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

from page_tracker.compat import busuanzi
from page_tracker.ingest.schemas import NO_STORE, REASON, REASONS
from page_tracker.json_api import Answer, Header, Parameter

JAVASCRIPT = "application/javascript"
# What a page's script gets when the counters cannot be read: a script that does nothing.
COUNTERS_UNAVAILABLE = "/* counters unavailable */"
_COUNT = "[0-9]+"
# busuanzi.render's answer, as a pattern (the callback as the query's; numbers).
_JSONP = (
    rf'try\{{{busuanzi.IDENTIFIER[1:-1]}\(\{{"site_uv":{_COUNT},"page_pv":{_COUNT},'
    rf'"version":{re.escape(str(busuanzi.VERSION))},"site_pv":{_COUNT}\}}\);\}}catch\(e\)\{{\}}'
)


class BusuanziQuery(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    callback: str = Field(
        alias="jsonpCallback",
        max_length=busuanzi.MAX_CALLBACK_LENGTH,
        pattern=busuanzi.IDENTIFIER,
        description="The function the answer calls: a JavaScript identifier, not a reserved word.",
        json_schema_extra={"not": {"enum": [*sorted(busuanzi.RESERVED)]}},
        examples=["BusuanziCallback_777487655111"],
    )


REFERER = Parameter(
    "Referer",
    "header",
    "The page that asks (browsers send it): the site is its host, the page its host and "
    "path (no query).",
    {"type": "string", "pattern": r"^https?://[a-z0-9]([a-z0-9.-]{0,60}[a-z0-9])?(/[!-~]*)?$"},
    required=True,
)
VISITOR_COOKIE = Parameter(
    busuanzi.COOKIE_NAME,
    "cookie",
    "The reader's visitor token, set by an earlier answer (else: a keyed hash of address "
    "and User-Agent).",
    {"type": "string", "pattern": busuanzi.COOKIE_PATTERN},
)
BUSUANZI_COUNTS = Answer(
    JAVASCRIPT,
    {"type": "string", "pattern": rf"^({_JSONP}|{re.escape(COUNTERS_UNAVAILABLE)})$"},
    headers={
        "X-Page-Tracker-Reason": REASON,
        "Cache-Control": NO_STORE,
        "Set-Cookie": Header(
            f"{busuanzi.COOKIE_NAME} for a new reader whose view counted "
            "(Secure; SameSite=None; HttpOnly).",
            {"type": "string", "pattern": f"^{busuanzi.COOKIE_NAME}="},
            required=False,
        ),
        "Retry-After": Header(
            "Seconds to wait, when the counters were unavailable because the server is busy.",
            {"type": "integer", "minimum": 0},
            required=False,
        ),
    },
    description='The JSONP script: try{NAME({"site_uv":N,"page_pv":N,"version":2.4,'
    '"site_pv":N});}catch(e){} (or a comment when the counters are unavailable).',
)
BUSUANZI_SCRIPT = Answer(
    JAVASCRIPT,
    {"type": "string"},
    description="busuanzi.pure.js, asking this server for the counters.",
)
PLAUSIBLE_TAKEN = Answer(
    "text/plain",
    {"type": "string", "const": "ok"},
    headers={
        "X-Page-Tracker-Reason": Header(
            "Per domain of d, in order: whether the event was counted (accepted) or why not.",
            {"type": "array", "items": {"type": "string", "enum": list(REASONS)}},
        ),
        "Cache-Control": NO_STORE,
    },
    description="ok: taken, counted or not as X-Page-Tracker-Reason says.",
)
