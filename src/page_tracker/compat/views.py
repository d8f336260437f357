"""Compatibility endpoints (blueprint ``compat``).

- ``GET /busuanzi?jsonpCallback=NAME`` (also ``GET /?jsonpCallback=NAME``, answered by a
  hook that runs before the seed page's view, which knows nothing of Busuanzi):
  Busuanzi's JSONP counter, page named by ``Referer``
  (:mod:`page_tracker.compat.busuanzi_route`; its ``GET`` is answered on the lean path).
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

from page_tracker.compat import busuanzi_route, plausible, services
from page_tracker.compat.busuanzi_route import (
    BUSUANZI_PATH,
    CALLBACK_PARAMETER,
    STORE_FAILURES,
)
from page_tracker.compat.schemas import (
    BUSUANZI_COUNTS,
    BUSUANZI_SCRIPT,
    PLAUSIBLE_TAKEN,
    REFERER,
    VISITOR_COOKIE,
    BusuanziQuery,
)
from page_tracker.ingest.parsing import (
    check_content_type,
    read_body,
)
from page_tracker.ingest.verdict import REASON_HEADER, STORE_UNAVAILABLE
from page_tracker.json_api import described
from page_tracker.lean_path import flask_response

log = logging.getLogger(__name__)
bp = Blueprint("compat", __name__)

_ORIGINAL_ENDPOINT = "//busuanzi.ibruce.info/busuanzi"
# What may stand for the host inside the served script's string literal.
_HOST = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


@bp.get(BUSUANZI_PATH)
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
    """Busuanzi's JSONP counter (the lean path answers its ``GET``; ``HEAD`` is here)."""
    return flask_response(busuanzi_route.answer(request))


@bp.before_app_request
def _busuanzi_at_the_site_root() -> Response | None:
    """Busuanzi scripts of some themes ask the site root: ``GET /?jsonpCallback=NAME`` is
    Busuanzi's; ``GET /`` without it stays the seed page's."""
    if (
        request.path == "/"
        and request.method in {"GET", "HEAD"}
        and CALLBACK_PARAMETER in request.args
    ):
        return flask_response(busuanzi_route.answer(request))
    return None


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
        return flask_response(busuanzi_route.refusal(400, "malformed", "invalid Host header"))
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
        reasons = services.record_plausible(event, services.Reader.of(request.environ))
    except STORE_FAILURES:
        log.exception("Plausible event for %s not counted: the store failed", event.domains)
        reasons = [STORE_UNAVAILABLE]
    response = Response("ok", 202, content_type="text/plain; charset=utf-8")
    response.headers["Cache-Control"] = "no-store"
    response.headers[REASON_HEADER] = ",".join(reasons)
    return response
