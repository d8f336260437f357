"""What an ingest request says: the hit in a ``POST /api/v1/hits`` body or a
``GET /count.gif`` query, and who sent it (address, Do-Not-Track).

The limits of a posted body are here too, shared by every route that takes one
(``/api/v1/hits``, ``/api/event``): :func:`read_body` never reads more than one byte
past the limit, whatever the body's size or framing (413 otherwise);
:func:`check_content_type` takes what trackers send (``text/plain``, the CORS-simple
type of ``sendBeacon`` and ``fetch``, ``application/json`` or none) and refuses the rest
(415); JSON nested too deep for the parser is a 400, like any other bad JSON.

Everything reads the WSGI environ, so a Flask view and the lean WSGI path in front of
Flask parse a request alike.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

from werkzeug.wrappers import Request

from page_tracker.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from page_tracker.ingest.hits import RawHit
from page_tracker.remote_address import client_ip

__all__ = ["MalformedHit", "client_ip", "hit_from_body", "hit_from_pixel", "wants_no_tracking"]

MAX_BODY = 8 * 1024
_TEXT_FIELDS = ("url", "referrer", "title", "screen", "event")
TRACKER_CONTENT_TYPES = frozenset({"", "text/plain", "application/json"})
_CHUNK = 64 * 1024


class MalformedHit(ValidationFailed):
    """A ``/api/v1/hits`` body that is not a valid hit (answered 400 with the reason)."""


def check_content_type(environ: Mapping[str, Any]) -> None:
    """Raise :class:`UnsupportedMediaType` (415) unless the body is of a type trackers
    send (see the module docstring)."""
    media_type = str(environ.get("CONTENT_TYPE") or "").split(";", 1)[0].strip().lower()
    if media_type not in TRACKER_CONTENT_TYPES:
        raise UnsupportedMediaType(
            "the body must be text/plain or application/json",
            details={"accepted": sorted(TRACKER_CONTENT_TYPES - {""})},
        )


def read_body(environ: Mapping[str, Any], limit: int) -> bytes:
    """The request body, read from ``wsgi.input`` in chunks and never more than one byte
    past ``limit``: raises :class:`PayloadTooLarge` (413) for a longer body, unread when
    its ``Content-Length`` says so. A body of unknown length is read only when the
    server marks the input terminated (``wsgi.input_terminated``: chunked requests)."""
    try:
        length: int | None = int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        length = None
    if length is not None and length > limit:
        raise _too_large(limit)
    if length is None and not environ.get("wsgi.input_terminated"):
        return b""
    want = limit + 1 if length is None else length
    stream = environ["wsgi.input"]
    parts: list[bytes] = []
    got = 0
    while got < want:
        chunk = stream.read(min(_CHUNK, want - got))
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    if got > limit:
        raise _too_large(limit)
    return b"".join(parts)


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"the body exceeds {limit} bytes", details={"max_bytes": limit})


def load_json(body: bytes | str) -> Any:
    """``json.loads``; raises ``ValueError`` for bad JSON, also for JSON nested deeper
    than the parser's recursion limit (a ``RecursionError`` otherwise)."""
    try:
        return json.loads(body)
    except RecursionError:
        raise ValueError("JSON nested too deep") from None


def _parse_body(body: bytes) -> dict[str, Any]:
    try:
        data = load_json(body)
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
