"""The ingest routes as Flask views, and the tracking script: ``POST /api/v1/hits``,
``GET /count.gif`` (adapters of :mod:`page_tracker.ingest.routes`; most requests are
answered before Flask by :mod:`page_tracker.ingest.lean_wsgi`) and ``GET /pt.js``."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib.resources import files

from flask import Blueprint, Response, request

from page_tracker.ingest.routes import (
    CORS_HEADERS,
    HITS_PATH,
    PIXEL_PATH,
    ROUTES,
    IngestRequest,
)
from page_tracker.ingest.schemas import (
    HIT_ACCEPTED,
    PIXEL,
    TRACKING_SCRIPT,
    BrowserHit,
    PixelQuery,
)
from page_tracker.ingest.verdict import MALFORMED, REASON_HEADER
from page_tracker.json_api import IF_NONE_MATCH, NOT_MODIFIED, described
from page_tracker.lean_path import flask_response

bp = Blueprint("ingest", __name__)


@bp.post(HITS_PATH)
@described(
    "Count a browser's hit (what pt.js sends; the verdict in X-Page-Tracker-Reason)",
    tag="tracking",
    access="public",
    body=BrowserHit,
    body_types=("application/json", "text/plain"),
    responses={202: HIT_ACCEPTED},
    errors=(400, 413, 415),
)
def post_hit() -> Response:
    # The route reads the body from the environ's input, within its limit.
    return flask_response(ROUTES.get().post_hits(IngestRequest(request.environ)))


@bp.get(PIXEL_PATH)
@described(
    "Count a view with the pixel (<noscript>, e-mail): always the same GIF",
    tag="tracking",
    access="public",
    query=PixelQuery,
    responses={200: PIXEL},
)
def count_gif() -> Response:
    return flask_response(ROUTES.get().count_gif(IngestRequest(request.environ)))


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
@described(
    "The tracking script (ETag; 304 to If-None-Match)",
    tag="tracking",
    access="public",
    parameters=(IF_NONE_MATCH,),
    responses={200: TRACKING_SCRIPT, 304: NOT_MODIFIED},
)
def tracking_script() -> Response:
    body, digest = _script()
    response = Response(body, mimetype="application/javascript")
    response.set_etag(digest)
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.make_conditional(request)
    return response
