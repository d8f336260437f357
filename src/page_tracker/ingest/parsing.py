"""What an ingest request says: the hit in a ``POST /api/v1/hits`` body or a
``GET /count.gif`` query, and who sent it (address, Do-Not-Track).

Everything reads the WSGI environ, so a Flask view and the lean WSGI path in front of
Flask parse a request alike.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

from werkzeug.wrappers import Request

from page_tracker.errors import ValidationFailed
from page_tracker.ingest.hits import RawHit
from page_tracker.remote_address import client_ip

__all__ = ["MalformedHit", "client_ip", "hit_from_body", "hit_from_pixel", "wants_no_tracking"]

MAX_BODY = 8 * 1024
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


def hit_from_body(body: bytes, environ: Mapping[str, Any], trusted_proxies: int) -> RawHit:
    """The hit of a ``/api/v1/hits`` request (its body and WSGI environ); raises
    :class:`MalformedHit`."""
    data = _parse_body(body)
    return RawHit(
        site_id=data["site"],
        url=data["url"],
        referrer=data.get("referrer") or None,
        title=data.get("title"),
        screen=data.get("screen"),
        event=data.get("event"),
        user_agent=environ.get("HTTP_USER_AGENT", ""),
        ip=client_ip(environ, trusted_proxies),
        dnt=wants_no_tracking(environ),
        source="js",
    )


def hit_from_pixel(environ: Mapping[str, Any], trusted_proxies: int) -> RawHit | None:
    """The hit of a ``/count.gif`` request; ``None`` without a site (malformed). ``url``
    defaults to the ``Referer``."""
    # werkzeug's query parsing, as a Flask view has it
    args = Request(cast("dict[str, Any]", environ)).args
    site = args.get("site", "")
    if not site:
        return None
    return RawHit(
        site_id=site,
        url=args.get("url") or environ.get("HTTP_REFERER") or "",
        referrer=args.get("referrer") or None,
        title=args.get("title"),
        screen=args.get("screen"),
        user_agent=environ.get("HTTP_USER_AGENT", ""),
        ip=client_ip(environ, trusted_proxies),
        dnt=wants_no_tracking(environ),
        source="pixel",
    )


def wants_no_tracking(environ: Mapping[str, Any]) -> bool:
    """Do-Not-Track (``DNT: 1``) or Global Privacy Control (``Sec-GPC: 1``)."""
    return environ.get("HTTP_DNT") == "1" or environ.get("HTTP_SEC_GPC") == "1"
