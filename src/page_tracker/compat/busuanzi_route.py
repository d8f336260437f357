"""Busuanzi's JSONP counter as one route function from a request to an answer.

``GET /busuanzi?jsonpCallback=NAME`` (and ``GET /?jsonpCallback=NAME``, which some themes
ask) counts the page named by ``Referer`` and answers its counters. Two ways in adapt
:func:`answer`: the lean path in front of Flask (:func:`install`, what almost every
request takes) and the Flask views of :mod:`page_tracker.compat.views` (``HEAD``, and
an app without the lean path), so both answer alike.

It never breaks the reader's page: a failing counter store is logged and answered with
a harmless script, never a 5xx.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

from flask import Flask, current_app
from redis import RedisError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.http import http_date, parse_cookie
from werkzeug.wrappers import Request

from page_tracker.compat import busuanzi, services
from page_tracker.compat.schemas import COUNTERS_UNAVAILABLE
from page_tracker.db import is_pool_timeout
from page_tracker.errors import RETRY_AFTER_SECONDS, StoreError, error_body, error_json
from page_tracker.extensions import Extension
from page_tracker.ingest.verdict import HEAD_REQUEST, REASON_HEADER, STORE_UNAVAILABLE
from page_tracker.lean_path import LeanResponse, add_route
from page_tracker.metrics import METRICS, POOL_EXHAUSTED, HitMetrics
from page_tracker.settings import SETTINGS

log = logging.getLogger(__name__)

STORE_FAILURES = (SQLAlchemyError, RedisError, StoreError, OSError)
BUSUANZI_PATH = "/busuanzi"
CALLBACK_PARAMETER = "jsonpCallback"


_SCRIPT_HEADERS = (
    # Exactly this value (no charset): what the original service sends.
    ("Content-Type", "application/javascript"),
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
)


@lru_cache(maxsize=64)  # one tuple per reason, built once
def _script_headers(reason: str) -> tuple[tuple[str, str], ...]:
    return (*_SCRIPT_HEADERS, (REASON_HEADER, reason))


def _script(body: str, status: int, reason: str, *extra: tuple[str, str]) -> LeanResponse:
    return LeanResponse(status, _script_headers(reason) + extra, body.encode())


def refusal(status: int, reason: str, message: str, *extra: tuple[str, str]) -> LeanResponse:
    """A Busuanzi request we cannot answer with counters: the JSON error shape, which a
    browser never runs as a script (error status, ``nosniff``)."""
    headers = (
        ("Content-Type", "application/json"),
        ("Cache-Control", "no-store"),
        ("X-Content-Type-Options", "nosniff"),
        (REASON_HEADER, reason),
    )
    return LeanResponse(
        status, headers + extra, error_json(error_body(status, status * 100 + 1, message))
    )


class _CookieExpiry:
    """``Set-Cookie`` of a new reader's ``busuanziId``, as ``werkzeug.http.dump_cookie``
    writes it, with its ``Expires`` date formatted once a second rather than once a
    request (the token, 32 hex digits, needs no quoting)."""

    def __init__(self) -> None:
        self._second = -1
        self._suffix = ""

    def header(self, token: str) -> tuple[str, str]:
        now = int(time.time())
        if now != self._second:  # a race only formats the same second twice
            expires = http_date(now + busuanzi.COOKIE_MAX_AGE)
            self._suffix = (
                f"; Expires={expires}; Max-Age={busuanzi.COOKIE_MAX_AGE}; Secure; HttpOnly;"
                " Path=/; SameSite=None"
            )
            self._second = now
        return ("Set-Cookie", f"{busuanzi.COOKIE_NAME}={token}{self._suffix}")


_COOKIE = _CookieExpiry()


def _visitor_cookie(token: str) -> tuple[str, str]:
    return _COOKIE.header(token)


@lru_cache(maxsize=4096)  # readers of one page send the same Referer: parsed once
def _page_of(referer: str) -> busuanzi.Page | None:
    return busuanzi.parse_referer(referer)


def callback_of(query: str) -> str | None:
    """The first ``jsonpCallback`` of a query string (decoded as werkzeug decodes a
    request's ``args``: invalid bytes stay percent-encoded), or ``None``."""
    if CALLBACK_PARAMETER not in query and "%" not in query:
        return None  # cheap refusal: the name cannot be there, not even encoded
    for name, value in parse_qsl(query, keep_blank_values=True, errors="werkzeug.url_quote"):
        if name == CALLBACK_PARAMETER:
            return value
    return None


def _parse(environ: Mapping[str, Any]) -> tuple[str, busuanzi.Page] | LeanResponse:
    """The callback and the page of a request, or the refusal it gets."""
    callback = callback_of(_query(environ))
    if callback is None or not busuanzi.is_valid_callback(callback):
        return refusal(400, "malformed", "jsonpCallback must be a JavaScript identifier")
    referer = environ.get("HTTP_REFERER")
    page = _page_of(referer) if referer else None
    if page is None:
        return refusal(400, "malformed", "the Referer header must name the page")
    return callback, page


def _query(environ: Mapping[str, Any]) -> str:
    """The query string as text (WSGI gives it as latin-1 code points of its bytes)."""
    return str(environ.get("QUERY_STRING", "")).encode("latin-1").decode("utf-8", "replace")


def _cookie_token(environ: Mapping[str, Any]) -> str | None:
    header = environ.get("HTTP_COOKIE")
    if not header or busuanzi.COOKIE_NAME not in header:
        return None
    return busuanzi.cookie_token(parse_cookie(header).get(busuanzi.COOKIE_NAME))


def _unavailable(error: Exception, page: busuanzi.Page, metrics: HitMetrics) -> LeanResponse:
    # The reader's page loses its numbers, nothing else: the callback never runs.
    if is_pool_timeout(error):  # overload: answered at once, counted, no traceback
        metrics.count(POOL_EXHAUSTED)
        log.warning("Busuanzi hit for %s refused: the connection pool is exhausted", page.key)
        retry = ("Retry-After", str(RETRY_AFTER_SECONDS))
        return _script(COUNTERS_UNAVAILABLE, 200, STORE_UNAVAILABLE, retry)
    log.exception("Busuanzi hit for %s not counted: the store failed", page.key)
    return _script(COUNTERS_UNAVAILABLE, 200, STORE_UNAVAILABLE)


class BusuanziRoute:
    """The Busuanzi route of one app, made on its first request and used by many
    threads: what every request needs of the app (settings, the visitor key, the site
    directory, the counter reader) is looked up once, so a request needs no app
    context."""

    def __init__(self, app: Flask) -> None:
        settings = SETTINGS.get(app)
        self.counting = services.BusuanziCounting.of(app)
        self.metrics = METRICS.get(app)
        self.trusted_proxies = settings.trusted_proxies
        self.key = busuanzi.derive_key(settings.secret_key.get_secret_value())

    def answer(self, environ: Mapping[str, Any]) -> LeanResponse:
        """Answer a Busuanzi JSONP request (its WSGI environ)."""
        parsed = _parse(environ)
        if isinstance(parsed, LeanResponse):
            return parsed
        callback, page = parsed
        if environ.get("REQUEST_METHOD") == "HEAD":  # never counts; its answer has no body
            return _script("", 200, HEAD_REQUEST)
        reader = services.Reader.of(environ, self.trusted_proxies)
        cookie = _cookie_token(environ)
        token = cookie or busuanzi.visitor_token(self.key, reader.ip, reader.user_agent)
        try:
            outcome = services.count_busuanzi(page, reader, token, self.counting)
        except STORE_FAILURES as error:
            return _unavailable(error, page, self.metrics)
        set_cookie = (_visitor_cookie(token),) if cookie is None and outcome.accepted else ()
        if not outcome.public:
            # Counted, but the numbers are the site's own: the same answer as the public
            # counters and the badge give for this site.
            return refusal(404, outcome.reason, "no public counters for this site", *set_cookie)
        if outcome.counters is None:
            return refusal(404, outcome.reason, f"no site counts the host {page.host}")
        counters = outcome.counters
        body = busuanzi.render(callback, counters.site_pv, counters.site_uv, counters.page_pv)
        return _script(body, 200, outcome.reason, *set_cookie)


BUSUANZI: Extension[BusuanziRoute] = Extension(
    "page_tracker.busuanzi_route", "the Busuanzi route (both ways in)"
)


def route_of(app: Flask) -> BusuanziRoute:
    """The app's Busuanzi route, made on first use (every feature is set up by then)."""
    found = BUSUANZI.find(app)
    if found is None:  # two first requests may both make one: equal, the last one stays
        found = BUSUANZI.put(app, BusuanziRoute(app))
    return found


def answer(request: Request) -> LeanResponse:
    """Answer a Busuanzi JSONP request (the Flask views: in the app's context)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    return route_of(app).answer(request.environ)


def install(app: Flask) -> None:
    """Answer Busuanzi's ``GET`` on the lean path (``/`` only with ``jsonpCallback``:
    the site root without it stays the seed page's)."""

    def busuanzi_get(environ: Mapping[str, Any]) -> LeanResponse:
        return route_of(app).answer(environ)

    def site_root(environ: Mapping[str, Any]) -> LeanResponse | None:
        if callback_of(_query(environ)) is None:
            return None  # the seed page (Flask)
        return route_of(app).answer(environ)

    add_route(app, "GET", BUSUANZI_PATH, busuanzi_get)
    add_route(app, "GET", "/", site_root)
