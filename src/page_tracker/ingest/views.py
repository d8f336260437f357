"""The ingest routes as Flask views, and the tracking script: ``POST /api/v1/hits``,
``GET /count.gif`` (adapters of :mod:`page_tracker.ingest.routes`; most requests are
answered before Flask by :mod:`page_tracker.ingest.lean_wsgi`) and ``GET /pt.js``."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib.resources import files

from flask import Blueprint, Response, request
from pydantic import BaseModel, Field

from page_tracker.ingest.routes import (
    CORS_HEADERS,
    HITS_PATH,
    PIXEL_PATH,
    ROUTES,
    IngestRequest,
    IngestResponse,
)
from page_tracker.ingest.verdict import MALFORMED, MAX_EVENT_LENGTH, REASON_HEADER
from page_tracker.json_api import described

bp = Blueprint("ingest", __name__)

# What the document promises is counted or judged: printable text (a control character
# is removed before the hit is judged, which could leave an event empty).
_PRINTABLE = r"^[^\x00-\x1f\x7f-\x9f]*$"


class BrowserHit(BaseModel):
    """A hit as ``pt.js`` sends it (also as ``text/plain``); the reader's address,
    User-Agent and DNT/GPC come from the request."""

    site: str = Field(min_length=1, max_length=64, description="The site id.")
    url: str = Field(
        max_length=1024,
        pattern=r"^https?://[a-z0-9]([a-z0-9.-]{0,60}[a-z0-9])?(/[^\x00-\x1f\x7f-\x9f]*)?$",
        description="The page's absolute http(s) URL.",
    )
    referrer: str | None = Field(default=None, max_length=1024, pattern=_PRINTABLE)
    title: str | None = Field(default=None, max_length=200, pattern=_PRINTABLE)
    screen: str | None = Field(default=None, max_length=32, pattern=_PRINTABLE)
    event: str | None = Field(
        default=None, min_length=1, max_length=MAX_EVENT_LENGTH, pattern=r"^[!-~]+$"
    )


def _flask_response(answer: IngestResponse) -> Response:
    # Content-Length comes from the body; X-Request-ID from the request hooks (logs.py).
    return Response(answer.body, answer.status, list(answer.headers))


@bp.post(HITS_PATH)
@described(
    "Count a browser's hit (what pt.js sends; the verdict in X-Page-Tracker-Reason)",
    tag="tracking",
    access="public",
    body=BrowserHit,
    responses={202: None},
    errors=(400, 413, 415),
)
def post_hit() -> Response:
    # The route reads the body from the environ's input, within its limit.
    return _flask_response(ROUTES.get().post_hits(IngestRequest(request.environ)))


@bp.get(PIXEL_PATH)
def count_gif() -> Response:
    return _flask_response(ROUTES.get().count_gif(IngestRequest(request.environ)))


@bp.after_app_request
def _hits_headers(response: Response) -> Response:
    # What Flask answers itself on the hits path (the CORS preflight, a 405) carries the
    # route's CORS headers, and a reason unless it is the preflight (not a hit at all).
    if request.path == HITS_PATH:
        response.headers.update(dict(CORS_HEADERS))
        if request.method != "OPTIONS":
            response.headers[REASON_HEADER] = response.headers.get(REASON_HEADER, MALFORMED)
    return response


@cache
def _script() -> tuple[bytes, str]:
    source = files("page_tracker.ingest").joinpath("static/pt.js").read_bytes()
    return source, hashlib.sha256(source).hexdigest()[:16]


@bp.get("/pt.js")
def tracking_script() -> Response:
    body, digest = _script()
    response = Response(body, mimetype="application/javascript")
    response.set_etag(digest)
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.make_conditional(request)
    return response
