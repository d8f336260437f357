"""Public counters of sites that enable them: ``GET /api/v1/counters/{site}`` (JSON) and
``GET /badge/{site}.svg`` (an SVG badge). Both carry an ``ETag`` and answer ``304`` to a
matching ``If-None-Match``; clients revalidate every time (``no-cache``). Both read
through the cache (:mod:`page_tracker.stats.cached`: a few seconds old at most), and an
id that no site has is refused by a Bloom filter, without a query.

Their ``GET`` is answered on the lean path in front of Flask (:func:`install`) by the
same functions the Flask views adapt; a request that gets an error (no such site, a bad
``path``) is handed to Flask, which answers it with the JSON error shape."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Callable, Mapping
from html import escape
from typing import Any, cast

from flask import Blueprint, Flask, Response, request
from pydantic import BaseModel, Field
from werkzeug.datastructures import MultiDict
from werkzeug.http import is_resource_modified, quote_etag
from werkzeug.utils import get_content_type
from werkzeug.wrappers import Request

from page_tracker.db import lazy_session
from page_tracker.errors import APIError, NotFound, ValidationFailed
from page_tracker.json_api import ETAG, IF_NONE_MATCH, NOT_MODIFIED, Answer, Header, described
from page_tracker.lean_path import LeanResponse, add_route_around, flask_response
from page_tracker.sites.known import might_exist
from page_tracker.sites.services import SITES, SiteInfo
from page_tracker.stats.cached import read_counters
from page_tracker.stats.counters import Counters

bp = Blueprint("public_counters", __name__)

COUNTERS_PREFIX = "/api/v1/counters/"
BADGE_PREFIX, BADGE_SUFFIX = "/badge/", ".svg"

MAX_LABEL = 40
MAX_COUNTER_PATH = 2048
_CHAR_WIDTH = 6.5  # Verdana 11px, average advance: good enough for a badge


def _public_site(site_id: str) -> SiteInfo:
    site: SiteInfo | None = None
    if might_exist(site_id):  # an unknown id costs no query
        with lazy_session() as session:  # closed before the counters are read
            site = SITES.get().by_id(session, site_id)
    if site is None or not site.public_counters:
        # The same answer for "no such site" and "not public": ids are not enumerable.
        raise NotFound("no public counters for this site")
    return site


def _path(args: MultiDict[str, str]) -> str:
    path = args.get("path", "/") or "/"
    if not path.startswith("/"):
        raise ValidationFailed("path must start with /", details={"field": "path"})
    if len(path) > MAX_COUNTER_PATH:
        raise ValidationFailed(
            f"path must be at most {MAX_COUNTER_PATH} characters", details={"field": "path"}
        )
    return path


def _conditional(body: bytes, mimetype: str, environ: Mapping[str, Any]) -> LeanResponse:
    etag = hashlib.sha256(body).hexdigest()[:32]
    headers = (
        ("Content-Type", get_content_type(mimetype, "utf-8")),
        ("ETag", quote_etag(etag)),
        ("Cache-Control", "no-cache"),
        ("Access-Control-Allow-Origin", "*"),
    )
    if not is_resource_modified(cast("dict[str, Any]", environ), etag=etag):
        return LeanResponse(304, headers[1:], b"")
    return LeanResponse(200, headers, body)


class CounterQuery(BaseModel):
    path: str = Field(
        default="/",
        pattern="^/",
        max_length=MAX_COUNTER_PATH,
        description="The page whose counts page_pv and page_uv are.",
    )


class BadgeQuery(CounterQuery):
    path: str = Field(
        default="/",
        pattern="^/",
        max_length=MAX_COUNTER_PATH,
        description="The page whose views the badge shows; without it, the site's.",
    )
    label: str = Field(
        default="views", description=f"The badge's left text (its first {MAX_LABEL} characters)."
    )


_NO_CACHE = Header(
    "Revalidate every time (If-None-Match).", {"type": "string", "const": "no-cache"}
)
BADGE = Answer(
    "image/svg+xml",
    {"type": "string", "pattern": "^<svg "},
    headers={"ETag": ETAG, "Cache-Control": _NO_CACHE},
    description="A flat two-part SVG badge: the label and the number of views.",
)


class CountersOut(BaseModel):
    """All-time counts (Busuanzi's four numbers), including hits not flushed yet."""

    site_pv: int = Field(description="The site's page views.")
    site_uv: int = Field(description="The site's unique visitors.")
    page_pv: int = Field(description="The page's views.")
    page_uv: int = Field(description="The page's unique visitors.")


@bp.get("/api/v1/counters/<site_id>")
@described(
    "Public counters of a site that enables them (ETag; 304 to If-None-Match)",
    tag="tracking",
    access="public",
    query=CounterQuery,
    parameters=(IF_NONE_MATCH,),
    responses={200: CountersOut, 304: NOT_MODIFIED},
    errors=(400, 404),
)
def counters(site_id: str) -> Response:
    return flask_response(counters_answer(site_id, request.args, request.environ))


def counters_answer(
    site_id: str, args: MultiDict[str, str], environ: Mapping[str, Any]
) -> LeanResponse:
    """The public counters of ``site_id`` as JSON (in the app's context); raises
    :class:`NotFound` or :class:`ValidationFailed`."""
    site = _public_site(site_id)
    found: Counters = read_counters(site.id, _path(args))
    body = json.dumps(
        {
            "site_pv": found.site_pv,
            "site_uv": found.site_uv,
            "page_pv": found.page_pv,
            "page_uv": found.page_uv,
        }
    ).encode()
    return _conditional(body, "application/json", environ)


# Control characters, lone surrogates and unassigned code points (U+FFFE, U+FFFF among
# them): not allowed in XML 1.0 or not worth showing; a badge drops them.
_NOT_IN_BADGE = frozenset({"Cc", "Cs", "Cn"})


def badge_text(text: str) -> str:
    """``text`` without the characters an XML document may not hold."""
    if text.isprintable():
        return text
    return "".join(char for char in text if unicodedata.category(char) not in _NOT_IN_BADGE)


def render_badge(label: str, value: str) -> str:
    """A flat two-part badge (shields.io look): well-formed XML for any text (the text
    is cleaned by :func:`badge_text` and escaped)."""
    label, value = badge_text(label), badge_text(value)
    left = int(len(label) * _CHAR_WIDTH + 12)
    right = int(len(value) * _CHAR_WIDTH + 12)
    total = left + right
    label_text, value_text = escape(label), escape(value)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" '
        f'aria-label="{label_text}: {value_text}"><title>{label_text}: {value_text}</title>'
        f'<rect width="{left}" height="20" fill="#555"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="#4c1"/>'
        '<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,sans-serif" '
        'font-size="11">'
        f'<text x="{left / 2}" y="14">{label_text}</text>'
        f'<text x="{left + right / 2}" y="14">{value_text}</text></g></svg>'
    )


@bp.get("/badge/<site_id>.svg")
@described(
    "A badge of a site that enables public counters (ETag; 304 to If-None-Match)",
    tag="tracking",
    access="public",
    query=BadgeQuery,
    parameters=(IF_NONE_MATCH,),
    responses={200: BADGE, 304: NOT_MODIFIED},
    errors=(400, 404),
)
def badge(site_id: str) -> Response:
    return flask_response(badge_answer(site_id, request.args, request.environ))


def badge_answer(
    site_id: str, args: MultiDict[str, str], environ: Mapping[str, Any]
) -> LeanResponse:
    """The badge of ``site_id`` (in the app's context); raises like :func:`counters_answer`."""
    site = _public_site(site_id)
    label = args.get("label", "views")[:MAX_LABEL]
    found = read_counters(site.id, _path(args))
    # No path: the site's total; with a path: that page's.
    value = found.page_pv if "path" in args else found.site_pv
    return _conditional(render_badge(label, f"{value:,}").encode(), "image/svg+xml", environ)


ReadAnswer = Callable[[str, MultiDict[str, str], Mapping[str, Any]], LeanResponse]


def install(app: Flask) -> None:
    """Answer the counters' and badges' ``GET`` on the lean path; errors go to Flask."""

    def lean(start: str, end: str, answer: ReadAnswer) -> None:
        def route(environ: Mapping[str, Any]) -> LeanResponse | None:
            path = str(environ.get("PATH_INFO", ""))
            site_id = path[len(start) : len(path) - len(end)]
            args = Request(cast("dict[str, Any]", environ)).args
            with app.app_context():
                try:
                    return answer(site_id, args, environ)
                except APIError:
                    return None  # Flask answers the error (a read: nothing to undo)

        add_route_around(app, "GET", start, end, route)

    lean(COUNTERS_PREFIX, "", counters_answer)
    lean(BADGE_PREFIX, BADGE_SUFFIX, badge_answer)
