"""Compatibility endpoints (blueprint ``compat``).

- ``GET /busuanzi?jsonpCallback=NAME`` (also ``GET /?jsonpCallback=NAME``, answered by a
  hook that runs before the seed page's view, which knows nothing of Busuanzi):
  Busuanzi's JSONP counter, page named by ``Referer``.
- ``GET /busuanzi/2.3/busuanzi.pure.mini.js``: the Busuanzi script, counting here.
- ``POST /api/event``: Plausible's event API → ``202 ok``.

Like every tracking endpoint they never break the reader's page: a rejection is explained
in ``X-Page-Tracker-Reason``, and a failing counter store is logged and answered with a
harmless script (Busuanzi) or ``202`` (Plausible), never a 5xx.
"""

from __future__ import annotations

import logging
import re
from functools import cache
from importlib import resources

from flask import Blueprint, Response, request
from redis import RedisError
from sqlalchemy.exc import SQLAlchemyError

from page_tracker.compat import busuanzi, plausible, services
from page_tracker.compat.schemas import (
    BUSUANZI_COUNTS,
    BUSUANZI_SCRIPT,
    COUNTERS_UNAVAILABLE,
    PLAUSIBLE_TAKEN,
    REFERER,
    VISITOR_COOKIE,
    BusuanziQuery,
)
from page_tracker.db import is_pool_timeout
from page_tracker.errors import RETRY_AFTER_SECONDS, StoreError, error_body, error_json
from page_tracker.ingest.parsing import (
    check_content_type,
    client_ip,
    read_body,
    wants_no_tracking,
)
from page_tracker.ingest.verdict import HEAD_REQUEST, REASON_HEADER, STORE_UNAVAILABLE
from page_tracker.json_api import described
from page_tracker.metrics import METRICS, POOL_EXHAUSTED
from page_tracker.settings import SETTINGS

log = logging.getLogger(__name__)
bp = Blueprint("compat", __name__)

STORE_FAILURES = (SQLAlchemyError, RedisError, StoreError, OSError)
_ORIGINAL_ENDPOINT = "//busuanzi.ibruce.info/busuanzi"
# What may stand for the host inside the served script's string literal.
_HOST = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


def _reader() -> services.Reader:
    return services.Reader(
        ip=client_ip(request.environ),
        user_agent=request.user_agent.string,
        dnt=wants_no_tracking(request.environ),
    )


def _script(body: str, status: int, reason: str) -> Response:
    response = Response(body, status)
    # Exactly this value (no charset): what the original service sends.
    response.headers["Content-Type"] = "application/javascript"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers[REASON_HEADER] = reason
    return response


def _refusal(status: int, reason: str, message: str) -> Response:
    """A Busuanzi request we cannot answer with counters: the JSON error shape, which a
    browser never runs as a script (error status, ``nosniff``)."""
    response = Response(error_json(error_body(status, status * 100 + 1, message)), status)
    response.headers["Content-Type"] = "application/json"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers[REASON_HEADER] = reason
    return response


@bp.get("/busuanzi")
@described(
    "Busuanzi's counters of the page that asks (JSONP); counts its view",
    tag="compatibility",
    access="public",
    query=BusuanziQuery,
    parameters=(REFERER, VISITOR_COOKIE),
    responses={200: BUSUANZI_COUNTS},
    errors=(400, 404),
    description="The page is named by Referer: the site is its host (a site must exist "
    "for it, or be created on first sight when the operator allows the host), the page "
    "its host and path. The view counts like any hit (verdict in X-Page-Tracker-Reason); "
    "the answer calls jsonpCallback with the site's page views and visitors and the "
    "page's views. 404 when no site counts the host or the site does not publish its "
    "counters; 400 for an invalid callback or Referer. Also answered at `/?jsonpCallback=` "
    "(`/` without jsonpCallback is the seed page).",
    also_at=("/",),
)
def busuanzi_counter() -> Response:
    return busuanzi_response()


@bp.before_app_request
def _busuanzi_at_the_site_root() -> Response | None:
    """Busuanzi scripts of some themes ask the site root: ``GET /?jsonpCallback=NAME`` is
    Busuanzi's; ``GET /`` without it stays the seed page's."""
    if (
        request.path == "/"
        and request.method in {"GET", "HEAD"}
        and "jsonpCallback" in request.args
    ):
        return busuanzi_response()
    return None


def busuanzi_response() -> Response:
    """Answer a Busuanzi JSONP request (``/busuanzi`` and ``/`` with ``jsonpCallback``)."""
    callback = request.args.get("jsonpCallback")
    if callback is None or not busuanzi.is_valid_callback(callback):
        return _refusal(400, "malformed", "jsonpCallback must be a JavaScript identifier")
    page = busuanzi.parse_referer(request.headers.get("Referer"))
    if page is None:
        return _refusal(400, "malformed", "the Referer header must name the page")

    if request.method == "HEAD":  # HEAD never counts; its answer has no body anyway
        return _script("", 200, HEAD_REQUEST)
    settings = SETTINGS.get()
    reader = _reader()
    cookie = busuanzi.cookie_token(request.cookies.get(busuanzi.COOKIE_NAME))
    token = cookie or busuanzi.visitor_token(
        busuanzi.derive_key(settings.secret_key.get_secret_value()), reader.ip, reader.user_agent
    )
    try:
        outcome = services.count_busuanzi(
            page, reader, token, settings.busuanzi_autocreate_patterns
        )
    except STORE_FAILURES as error:
        # The reader's page loses its numbers, nothing else: the callback never runs.
        unavailable = _script(COUNTERS_UNAVAILABLE, 200, STORE_UNAVAILABLE)
        if is_pool_timeout(error):  # overload: answered at once, counted, no traceback
            METRICS.get().count(POOL_EXHAUSTED)
            log.warning("Busuanzi hit for %s refused: the connection pool is exhausted", page.key)
            unavailable.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        else:
            log.exception("Busuanzi hit for %s not counted: the store failed", page.key)
        return unavailable
    if not outcome.public:
        # Counted, but the numbers are the site's own: the same answer as the public
        # counters and the badge give for this site.
        response = _refusal(404, outcome.reason, "no public counters for this site")
    elif outcome.counters is None:
        return _refusal(404, outcome.reason, f"no site counts the host {page.host}")
    else:
        counters = outcome.counters
        body = busuanzi.render(callback, counters.site_pv, counters.site_uv, counters.page_pv)
        response = _script(body, 200, outcome.reason)
    if cookie is None and outcome.accepted:
        response.set_cookie(
            busuanzi.COOKIE_NAME,
            token,
            max_age=busuanzi.COOKIE_MAX_AGE,
            path="/",
            secure=True,
            httponly=True,
            samesite="None",
        )
    return response


@cache
def _busuanzi_source() -> str:
    folder = resources.files("page_tracker.compat") / "static" / "busuanzi"
    licence = (folder / "LICENSE").read_text(encoding="utf-8").strip()
    script = (folder / "busuanzi.pure.js").read_text(encoding="utf-8")
    return (
        f"/*! busuanzi.pure.js 1.0.3 (npm), served by page-tracker: the original script with\n"
        f" * its counter host set to this server, wrapped in a function so that it defines no\n"
        f" * globals (its top-level `const fetch` would hide window.fetch from the page).\n"
        f" *\n * {licence.replace(chr(10), chr(10) + ' * ')}\n */\n"
        f"(function (module) {{\n{script}\n}})({{ exports: {{}} }});\n"
    )


@bp.get("/busuanzi/2.3/busuanzi.pure.mini.js")
@described(
    "The Busuanzi script, asking this server (400: a Host header that is no host)",
    tag="compatibility",
    access="public",
    responses={200: BUSUANZI_SCRIPT},
    errors=(400,),
)
def busuanzi_script() -> Response:
    """The stock Busuanzi script, asking this server (the host the script came from)."""
    if not _HOST.fullmatch(request.host):
        return _refusal(400, "malformed", "invalid Host header")
    source = _busuanzi_source().replace(_ORIGINAL_ENDPOINT, f"//{request.host}/busuanzi")
    response = Response(source, 200)
    response.headers["Content-Type"] = "application/javascript; charset=utf-8"
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.after_request
def _cors(response: Response) -> Response:
    # Readers' pages call /api/event from their own origin, with no credentials.
    if request.path == "/api/event":
        response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.route("/api/event", methods=["OPTIONS"])
def plausible_preflight() -> Response:
    response = Response(status=204)
    response.headers["Access-Control-Allow-Methods"] = "POST"
    response.headers["Access-Control-Allow-Headers"] = "Content-Type"
    response.headers["Access-Control-Max-Age"] = "86400"
    return response


@bp.post("/api/event")
@described(
    "Plausible's event API: count a page view or custom event for the site(s) of d",
    tag="compatibility",
    access="public",
    body=plausible.PlausibleEvent,
    body_types=("text/plain", "application/json"),
    responses={202: PLAUSIBLE_TAKEN},
    errors=(400, 413, 415),
)
def plausible_event() -> Response:
    """Plausible's event API: ``202 ok`` for a well-formed event (counted or not: the
    reasons per domain are in ``X-Page-Tracker-Reason``), ``400`` JSON error otherwise."""
    # Only what trackers send, read at most one byte past the limit (413 otherwise).
    check_content_type(request.environ)
    event = plausible.parse_event(read_body(request.environ, plausible.MAX_BODY_BYTES))
    try:
        reasons = services.record_plausible(event, _reader())
    except STORE_FAILURES:
        log.exception("Plausible event for %s not counted: the store failed", event.domains)
        reasons = [STORE_UNAVAILABLE]
    response = Response("ok", 202, content_type="text/plain; charset=utf-8")
    response.headers["Cache-Control"] = "no-store"
    response.headers[REASON_HEADER] = ",".join(reasons)
    return response
