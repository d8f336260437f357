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
from collections.abc import Mapping
from typing import Any, cast

from flask import Flask
from redis import RedisError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.http import dump_cookie
from werkzeug.wrappers import Request

from page_tracker.compat import busuanzi, services
from page_tracker.compat.schemas import COUNTERS_UNAVAILABLE
from page_tracker.db import is_pool_timeout
from page_tracker.errors import RETRY_AFTER_SECONDS, StoreError, error_body, error_json
from page_tracker.ingest.verdict import HEAD_REQUEST, REASON_HEADER, STORE_UNAVAILABLE
from page_tracker.lean_path import LeanResponse, add_route
from page_tracker.metrics import METRICS, POOL_EXHAUSTED
from page_tracker.settings import SETTINGS

log = logging.getLogger(__name__)

STORE_FAILURES = (SQLAlchemyError, RedisError, StoreError, OSError)
BUSUANZI_PATH = "/busuanzi"
CALLBACK_PARAMETER = "jsonpCallback"


def _script(body: str, status: int, reason: str, *extra: tuple[str, str]) -> LeanResponse:
    headers = (
        # Exactly this value (no charset): what the original service sends.
        ("Content-Type", "application/javascript"),
        ("Cache-Control", "no-store"),
        ("X-Content-Type-Options", "nosniff"),
        (REASON_HEADER, reason),
    )
    return LeanResponse(status, headers + extra, body.encode())


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


def _visitor_cookie(token: str) -> tuple[str, str]:
    cookie = dump_cookie(
        busuanzi.COOKIE_NAME,
        token,
        max_age=busuanzi.COOKIE_MAX_AGE,
        path="/",
        secure=True,
        httponly=True,
        samesite="None",
    )
    return ("Set-Cookie", cookie)


def _parse(request: Request) -> tuple[str, busuanzi.Page] | LeanResponse:
    """The callback and the page of a request, or the refusal it gets."""
    callback = request.args.get(CALLBACK_PARAMETER)
    if callback is None or not busuanzi.is_valid_callback(callback):
        return refusal(400, "malformed", "jsonpCallback must be a JavaScript identifier")
    page = busuanzi.parse_referer(request.headers.get("Referer"))
    if page is None:
        return refusal(400, "malformed", "the Referer header must name the page")
    return callback, page


def _unavailable(error: Exception, page: busuanzi.Page) -> LeanResponse:
    # The reader's page loses its numbers, nothing else: the callback never runs.
    if is_pool_timeout(error):  # overload: answered at once, counted, no traceback
        METRICS.get().count(POOL_EXHAUSTED)
        log.warning("Busuanzi hit for %s refused: the connection pool is exhausted", page.key)
        retry = ("Retry-After", str(RETRY_AFTER_SECONDS))
        return _script(COUNTERS_UNAVAILABLE, 200, STORE_UNAVAILABLE, retry)
    log.exception("Busuanzi hit for %s not counted: the store failed", page.key)
    return _script(COUNTERS_UNAVAILABLE, 200, STORE_UNAVAILABLE)


def answer(request: Request) -> LeanResponse:
    """Answer a Busuanzi JSONP request (in the app's context)."""
    parsed = _parse(request)
    if isinstance(parsed, LeanResponse):
        return parsed
    callback, page = parsed
    if request.method == "HEAD":  # HEAD never counts; its answer has no body anyway
        return _script("", 200, HEAD_REQUEST)
    settings = SETTINGS.get()
    reader = services.Reader.of(request.environ)
    cookie = busuanzi.cookie_token(request.cookies.get(busuanzi.COOKIE_NAME))
    token = cookie or busuanzi.visitor_token(
        busuanzi.derive_key(settings.secret_key.get_secret_value()), reader.ip, reader.user_agent
    )
    try:
        outcome = services.count_busuanzi(
            page, reader, token, settings.busuanzi_autocreate_patterns
        )
    except STORE_FAILURES as error:
        return _unavailable(error, page)
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


def install(app: Flask) -> None:
    """Answer Busuanzi's ``GET`` on the lean path (``/`` only with ``jsonpCallback``:
    the site root without it stays the seed page's)."""

    def busuanzi_get(environ: Mapping[str, Any]) -> LeanResponse:
        with app.app_context():
            return answer(Request(cast("dict[str, Any]", environ)))

    def site_root(environ: Mapping[str, Any]) -> LeanResponse | None:
        if CALLBACK_PARAMETER not in str(environ.get("QUERY_STRING", "")):
            return None  # the seed page (Flask)
        request = Request(cast("dict[str, Any]", environ))
        if CALLBACK_PARAMETER not in request.args:
            return None
        with app.app_context():
            return answer(request)

    add_route(app, "GET", BUSUANZI_PATH, busuanzi_get)
    add_route(app, "GET", "/", site_root)
