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
from urllib.parse import parse_qsl

from flask import Blueprint, Flask, Response, current_app, request
from pydantic import BaseModel, Field
from werkzeug.datastructures import MultiDict
from werkzeug.http import is_resource_modified, quote_etag
from werkzeug.utils import get_content_type

from page_tracker.cache import CACHE
from page_tracker.db import DATABASE, LazySession
from page_tracker.errors import APIError, NotFound, ValidationFailed
from page_tracker.extensions import Extension
from page_tracker.json_api import ETAG, IF_NONE_MATCH, NOT_MODIFIED, Answer, Header, described
from page_tracker.lean_path import LeanResponse, add_route_around, flask_response
from page_tracker.sites.known import KNOWN_SITES
from page_tracker.sites.services import SITES, SiteInfo
from page_tracker.stats.cached import COUNTERS_NODE
from page_tracker.stats.counters import COUNTERS, Counters

bp = Blueprint("public_counters", __name__)

COUNTERS_PREFIX = "/api/v1/counters/"
BADGE_PREFIX, BADGE_SUFFIX = "/badge/", ".svg"

MAX_LABEL = 40
MAX_COUNTER_PATH = 2048
_CHAR_WIDTH = 6.5  # Verdana 11px, average advance: good enough for a badge


def _path(args: MultiDict[str, str]) -> str:
    path = args.get("path", "/") or "/"
    if not path.startswith("/"):
        raise ValidationFailed("path must start with /", details={"field": "path"})
    if len(path) > MAX_COUNTER_PATH:
        raise ValidationFailed(
            f"path must be at most {MAX_COUNTER_PATH} characters", details={"field": "path"}
        )
    return path


# The request headers that can make an answer a 304 (werkzeug's is_resource_modified
# with an ETag and no date): without them the answer is a 200, without parsing.
_CONDITIONAL = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MATCH")


class _Rendered:
    """One body's two answers (200, and 304 to a matching ``If-None-Match``), built once."""

    __slots__ = ("etag", "modified", "not_modified")

    def __init__(self, body: bytes, mimetype: str) -> None:
        self.etag = hashlib.sha256(body).hexdigest()[:32]
        headers = (
            ("Content-Type", get_content_type(mimetype, "utf-8")),
            ("ETag", quote_etag(self.etag)),
            ("Cache-Control", "no-cache"),
            ("Access-Control-Allow-Origin", "*"),
        )
        self.modified = LeanResponse(200, headers, body)
        self.not_modified = LeanResponse(304, headers[1:], b"")

    def answer(self, environ: Mapping[str, Any]) -> LeanResponse:
        if any(name in environ for name in _CONDITIONAL) and not is_resource_modified(
            cast("dict[str, Any]", environ), etag=self.etag
        ):
            return self.not_modified
        return self.modified


class PublicReads:
    """The counters' and badges' reads of one app, made on its first request and used
    by many threads: what a request needs of the app is looked up once (no app context
    on the lean path), and each distinct body is rendered, hashed and given its headers
    once (a read of unchanged counters is two dict lookups and the cache's)."""

    MAX_RENDERED = 10_000  # bound memory against random paths and labels

    def __init__(self, app: Flask) -> None:
        self.sessions = DATABASE.get(app).sessions.session_factory
        self.sites = SITES.get(app)
        self.known = KNOWN_SITES.find(app)
        self.cache = CACHE.get(app)
        self.reader = COUNTERS.get(app)
        self._rendered: dict[tuple[str, object], _Rendered] = {}

    def public_site(self, site_id: str) -> SiteInfo:
        site: SiteInfo | None = None
        if self.known is None or self.known.might_contain(site_id):  # unknown: no query
            with LazySession(self.sessions) as session:  # closed before the read
                site = self.sites.by_id(session, site_id)
        if site is None or not site.public_counters:
            # The same answer for "no such site" and "not public": ids are not enumerable.
            raise NotFound("no public counters for this site")
        return site

    def counters(self, site_id: str, path: str) -> Counters:
        """The all-time counters, through the read cache (``stats.cached``)."""
        reader = self.reader
        return self.cache.get(COUNTERS_NODE, site_id, path, lambda: reader.read(site_id, path))

    def rendered(
        self, kind: str, value: object, render: Callable[[], bytes], mimetype: str
    ) -> _Rendered:
        """The answers of the body ``render()`` makes of ``value`` (rendered once)."""
        key = (kind, value)
        found = self._rendered.get(key)
        if found is None:
            if len(self._rendered) >= self.MAX_RENDERED:
                self._rendered.clear()
            found = self._rendered[key] = _Rendered(render(), mimetype)
        return found


PUBLIC_READS: Extension[PublicReads] = Extension(
    "page_tracker.public_reads", "the public counters' and badges' reads (both ways in)"
)


def reads_of(app: Flask | None = None) -> PublicReads:
    """The app's :class:`PublicReads` (default: the current app's), made on first use
    (every feature is set up by then)."""
    if app is None:  # the object behind the proxy: the reads outlive the context
        app = current_app._get_current_object()  # type: ignore[attr-defined]
    found = PUBLIC_READS.find(app)
    if found is None:  # two first requests may both make one: equal, the last stays
        found = PUBLIC_READS.put(app, PublicReads(app))
    return found


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
    site_id: str,
    args: MultiDict[str, str],
    environ: Mapping[str, Any],
    reads: PublicReads | None = None,
) -> LeanResponse:
    """The public counters of ``site_id`` as JSON (``reads``: the app's; without it,
    the current app's); raises :class:`NotFound` or :class:`ValidationFailed`."""
    reads = reads or reads_of()
    site = reads.public_site(site_id)
    found = reads.counters(site.id, _path(args))
    return reads.rendered("json", found, lambda: _counters_json(found), "application/json").answer(
        environ
    )


def _counters_json(found: Counters) -> bytes:
    return json.dumps(
        {
            "site_pv": found.site_pv,
            "site_uv": found.site_uv,
            "page_pv": found.page_pv,
            "page_uv": found.page_uv,
        }
    ).encode()


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
    site_id: str,
    args: MultiDict[str, str],
    environ: Mapping[str, Any],
    reads: PublicReads | None = None,
) -> LeanResponse:
    """The badge of ``site_id``; ``reads`` and errors as in :func:`counters_answer`."""
    reads = reads or reads_of()
    site = reads.public_site(site_id)
    label = args.get("label", "views")[:MAX_LABEL]
    found = reads.counters(site.id, _path(args))
    # No path: the site's total; with a path: that page's.
    text = f"{found.page_pv if 'path' in args else found.site_pv:,}"
    return reads.rendered(
        "svg", (label, text), lambda: render_badge(label, text).encode(), "image/svg+xml"
    ).answer(environ)


ReadAnswer = Callable[[str, MultiDict[str, str], Mapping[str, Any], PublicReads], LeanResponse]


def _args(environ: Mapping[str, Any]) -> MultiDict[str, str]:
    """A request's ``args`` as werkzeug parses them (invalid bytes stay encoded)."""
    query = str(environ.get("QUERY_STRING", "")).encode("latin-1").decode("utf-8", "replace")
    return MultiDict(parse_qsl(query, keep_blank_values=True, errors="werkzeug.url_quote"))


def install(app: Flask) -> None:
    """Answer the counters' and badges' ``GET`` on the lean path; errors go to Flask."""

    def lean(start: str, end: str, answer: ReadAnswer) -> None:
        def route(environ: Mapping[str, Any]) -> LeanResponse | None:
            path = str(environ.get("PATH_INFO", ""))
            site_id = path[len(start) : len(path) - len(end)]
            try:
                return answer(site_id, _args(environ), environ, reads_of(app))
            except APIError:
                return None  # Flask answers the error (a read: nothing to undo)

        add_route_around(app, "GET", start, end, route)

    lean(COUNTERS_PREFIX, "", counters_answer)
    lean(BADGE_PREFIX, BADGE_SUFFIX, badge_answer)
