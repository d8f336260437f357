"""Tracking endpoints: ``POST /api/v1/hits``, ``GET /count.gif``, ``GET /pt.js``.

They never break the reader's page: rejections are answered normally with the reason in
``X-Page-Tracker-Reason``; only a malformed ``/api/v1/hits`` body gets a 400.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from typing import Any

from flask import Blueprint, Request, Response, request

from page_tracker.errors import ValidationFailed
from page_tracker.ingest.hits import RawHit
from page_tracker.ingest.record import (
    REASON_HEADER,
    client_ip,
    environ_client_ip,
    environ_wants_no_tracking,
    record,
    wants_no_tracking,
)
from page_tracker.ingest.verdict import MALFORMED

bp = Blueprint("tracking", __name__)

MAX_BODY = 8 * 1024
# The smallest transparent 1x1 GIF (43 bytes).
GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
_TEXT_FIELDS = ("url", "referrer", "title", "screen", "event")


class MalformedHit(ValidationFailed):
    """A ``/api/v1/hits`` body that is not a valid hit (answered 400 with the reason)."""


def _parse_body(body: bytes) -> dict[str, Any]:
    if len(body) > MAX_BODY:
        raise MalformedHit("body too large", details={"max_bytes": MAX_BODY})
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise MalformedHit("body must be a JSON object") from None
    if not isinstance(data, dict):
        raise MalformedHit("body must be a JSON object")
    site = data.get("site")
    if not isinstance(site, str) or not site:
        raise MalformedHit("site must be a site id", details={"field": "site"})
    if not isinstance(data.get("url"), str):
        raise MalformedHit("url must be a string", details={"field": "url"})
    for name in _TEXT_FIELDS:
        if data.get(name) is not None and not isinstance(data[name], str):
            raise MalformedHit(f"{name} must be a string or null", details={"field": name})
    return data


def hit_from_body(
    body: bytes, environ: Mapping[str, Any], trusted_proxies: int | None = None
) -> RawHit:
    """The hit of a ``/api/v1/hits`` request (its body and WSGI environ); raises
    :class:`MalformedHit`. Shared with the ingest fast path
    (:mod:`page_tracker.ingest.lean_wsgi`), which builds no ``Request``."""
    data = _parse_body(body)
    return RawHit(
        site_id=data["site"],
        url=data["url"],
        referrer=data.get("referrer") or None,
        title=data.get("title"),
        screen=data.get("screen"),
        event=data.get("event"),
        user_agent=environ.get("HTTP_USER_AGENT", ""),
        ip=environ_client_ip(environ, trusted_proxies),
        dnt=environ_wants_no_tracking(environ),
        source="js",
    )


def hit_from_pixel(req: Request, trusted_proxies: int | None = None) -> RawHit | None:
    """The hit of a ``/count.gif`` request; ``None`` without a site (malformed)."""
    site = req.args.get("site", "")
    if not site:
        return None
    return RawHit(
        site_id=site,
        url=req.args.get("url") or req.referrer or "",
        referrer=req.args.get("referrer") or None,
        title=req.args.get("title"),
        screen=req.args.get("screen"),
        user_agent=req.user_agent.string,
        ip=client_ip(req, trusted_proxies),
        dnt=wants_no_tracking(req),
        source="pixel",
    )


@bp.post("/api/v1/hits")
def post_hit() -> tuple[Response | str, int, dict[str, str]]:
    """JSON (``application/json`` or ``text/plain``) -> 202; malformed -> 400."""
    raw = hit_from_body(request.get_data(cache=False), request.environ)
    verdict = record(raw)
    if verdict.reason == MALFORMED:
        raise MalformedHit(verdict.detail or "malformed hit")
    return "", 202, {REASON_HEADER: verdict.reason}


@bp.after_app_request
def _cors(response: Response) -> Response:
    # Readers' pages on any origin post hits; nothing here carries credentials.
    if request.path == "/api/v1/hits":
        response.headers.update(cors_headers())
        response.headers[REASON_HEADER] = response.headers.get(REASON_HEADER, MALFORMED)
    return response


@bp.get("/count.gif")
def count_gif() -> tuple[bytes, int, dict[str, str]]:
    """The pixel: always the same GIF, whatever the verdict."""
    raw = hit_from_pixel(request)
    reason = MALFORMED if raw is None else record(raw).reason
    return GIF, 200, pixel_headers(reason)


def pixel_headers(reason: str) -> dict[str, str]:
    return {
        "Content-Type": "image/gif",
        "Cache-Control": "no-store, max-age=0",
        REASON_HEADER: reason,
    }


def cors_headers() -> dict[str, str]:
    """What every ``/api/v1/hits`` answer carries (readers' pages on any origin post
    hits; nothing here carries credentials)."""
    return {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": "Content-Type"}


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
