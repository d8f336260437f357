"""The two ingest routes, each one function from an :class:`IngestRequest` to an
:class:`IngestResponse`: ``POST /api/v1/hits`` and ``GET /count.gif``.

Two ways in adapt them and add nothing but the request id: the Flask views
(:mod:`page_tracker.ingest.views`) and the lean WSGI path in front of Flask
(:mod:`page_tracker.ingest.lean_wsgi`). Parsing, verdict, status, headers and the JSON
error shape are therefore the same whichever way a request came.

The routes never break the reader's page: a rejected hit is answered normally with the
reason in ``X-Page-Tracker-Reason``; only a ``/api/v1/hits`` request that is no hit gets
an error, with the JSON error shape: 400 (malformed), 413 (body over
:data:`~page_tracker.ingest.parsing.MAX_BODY`, never read further), 415 (content type).
``HEAD`` never counts: the pixel answers it without recording.
Site lookups come from the app's site cache; a database session is opened only on a
cache miss and closed before the view waits for its group commit.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from page_tracker.db import DATABASE, LazySession
from page_tracker.errors import APIError, error_json
from page_tracker.extensions import Extension
from page_tracker.ingest.hits import RawHit
from page_tracker.ingest.parsing import (
    MAX_BODY,
    MalformedHit,
    check_content_type,
    hit_from_body,
    hit_from_pixel,
    read_body,
)
from page_tracker.ingest.record import record_in
from page_tracker.ingest.verdict import HEAD_REQUEST, MALFORMED, REASON_HEADER, Verdict
from page_tracker.lean_path import LeanResponse
from page_tracker.settings import SETTINGS

HITS_PATH = "/api/v1/hits"
PIXEL_PATH = "/count.gif"
# The smallest transparent 1x1 GIF (43 bytes).
GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
# Readers' pages on any origin post hits; nothing here carries credentials.
CORS_HEADERS = (
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Allow-Headers", "Content-Type"),
)
# Site-cache misses in flight at once: when a cached site expires, every request in
# flight misses together; the site cache loads each site once, and this bounds the
# sessions that different unknown sites can open.
SESSIONS_AT_ONCE = 4


@dataclass(frozen=True, slots=True)
class IngestRequest:
    """What a route reads: the request's WSGI environ (a POST's body is read from its
    ``wsgi.input`` by the route, within the limit)."""

    environ: Mapping[str, Any]


# What a route answers (the adapters add ``Content-Length`` and ``X-Request-ID``).
IngestResponse = LeanResponse


class IngestRoutes:
    """The ingest routes of one app (made once per app, used by many threads)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.sessions: sessionmaker[Session] = DATABASE.get(app).sessions.session_factory
        self.trusted_proxies = SETTINGS.get(app).trusted_proxies
        self.session_gate = threading.BoundedSemaphore(SESSIONS_AT_ONCE)

    def _record(self, raw: RawHit) -> Verdict:
        session = LazySession(self.sessions, self.session_gate)
        try:
            return record_in(self.app, raw, cast(Session, session), release_session=True)
        finally:
            session.close()

    def post_hits(self, request: IngestRequest) -> IngestResponse:
        """JSON (``application/json`` or ``text/plain``) -> 202; malformed -> 400; too
        large -> 413; another content type -> 415."""
        environ = request.environ
        try:
            check_content_type(environ)
            body = read_body(environ, MAX_BODY)
            verdict = self._record(hit_from_body(body, environ, self.trusted_proxies))
            if verdict.reason == MALFORMED:
                raise MalformedHit(verdict.detail or "malformed hit")
        except APIError as error:
            headers = (("Content-Type", "application/json"), (REASON_HEADER, MALFORMED))
            body = error_json(error.to_dict())
            return IngestResponse(error.code, headers + CORS_HEADERS, body)
        headers = (("Content-Type", "text/html; charset=utf-8"), (REASON_HEADER, verdict.reason))
        return IngestResponse(202, headers + CORS_HEADERS, b"")

    def count_gif(self, request: IngestRequest) -> IngestResponse:
        """The pixel: always the same GIF, whatever the verdict (``HEAD``: not counted)."""
        raw = hit_from_pixel(request.environ, self.trusted_proxies)
        if raw is None:
            reason = MALFORMED
        elif request.environ.get("REQUEST_METHOD") == "HEAD":
            reason = HEAD_REQUEST
        else:
            reason = self._record(raw).reason
        headers = (
            ("Content-Type", "image/gif"),
            ("Cache-Control", "no-store, max-age=0"),
            (REASON_HEADER, reason),
        )
        return IngestResponse(200, headers, GIF)


ROUTES: Extension[IngestRoutes] = Extension(
    "page_tracker.ingest_routes", "the ingest routes, shared by the Flask views and the lean path"
)
