"""The ingest fast path: ``POST /api/v1/hits`` and ``GET /count.gif`` as plain WSGI.

A Flask request costs about 100 µs of routing, context and hook machinery before the
view runs; a hit itself costs about 40 µs. :class:`IngestFastPath` sits in front of the
Flask app (``app.wsgi_app``) and answers those two routes with the same code the views
use (:func:`~page_tracker.ingest.views.hit_from_body`, ``hit_from_pixel``,
:func:`~page_tracker.ingest.record.record_in`) and the same headers; everything
else, and every request it does not fully understand (a body too large or of unknown
length), goes to Flask unchanged. Site lookups come from the app's site cache; a
database session is opened only on a cache miss and closed before the answer.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

from flask import Flask, Request
from sqlalchemy.orm import Session, sessionmaker

from page_tracker.db import DATABASE
from page_tracker.ingest.hits import RawHit
from page_tracker.ingest.record import REASON_HEADER, record_in
from page_tracker.ingest.verdict import MALFORMED, Verdict
from page_tracker.ingest.views import (
    GIF,
    MAX_BODY,
    MalformedHit,
    cors_headers,
    hit_from_body,
    hit_from_pixel,
    pixel_headers,
)
from page_tracker.logs import REQUEST_ID_HEADER, request_id_for
from page_tracker.settings import SETTINGS

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

HITS_PATH = "/api/v1/hits"
PIXEL_PATH = "/count.gif"
SESSIONS_AT_ONCE = 4  # well below the pool size (5 + 10 overflow)


class _LazySession:
    """A session made on first use (a site-cache miss), closed by :meth:`close`.

    ``gate`` bounds the sessions open at once: when a cached site expires, every request
    in flight misses together, and without a bound they would take every pooled
    connection, including the one the group-commit writer needs.
    """

    __slots__ = ("_factory", "_gate", "_session")

    def __init__(self, factory: sessionmaker[Session], gate: threading.BoundedSemaphore) -> None:
        self._factory = factory
        self._gate = gate
        self._session: Session | None = None

    def __getattr__(self, name: str) -> Any:
        if self._session is None:
            self._gate.acquire()
            try:
                self._session = self._factory()
            except BaseException:
                self._gate.release()
                raise
        return getattr(self._session, name)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None
            self._gate.release()


class IngestFastPath:
    """WSGI middleware answering the ingest routes without Flask's dispatch."""

    def __init__(self, app: Flask, wsgi_app: WSGIApplication) -> None:
        self.app = app
        self.next = wsgi_app
        self.sessions: sessionmaker[Session] = DATABASE.get(app).sessions.session_factory
        self.trusted_proxies = SETTINGS.get(app).trusted_proxies
        self.session_gate = threading.BoundedSemaphore(SESSIONS_AT_ONCE)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO")
        method = environ.get("REQUEST_METHOD")
        if path == HITS_PATH and method == "POST":
            return self._hits(environ, start_response)
        if path == PIXEL_PATH and method == "GET":
            return self._pixel(environ, start_response)
        return self.next(environ, start_response)

    def _record(self, raw: RawHit) -> Verdict:
        session = _LazySession(self.sessions, self.session_gate)
        try:
            return record_in(self.app, raw, cast(Session, session), release_session=True)
        finally:
            session.close()

    def _hits(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or -1)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:  # chunked, missing or too large: Flask decides
            return self.next(environ, start_response)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = [
            *cors_headers().items(),
            (REQUEST_ID_HEADER, request_id_for(environ.get("HTTP_X_REQUEST_ID", ""))),
        ]
        try:
            verdict = self._record(hit_from_body(body, environ, self.trusted_proxies))
            if verdict.reason == MALFORMED:
                raise MalformedHit(verdict.detail or "malformed hit")
        except MalformedHit as error:
            payload = json.dumps(error.to_dict()).encode()
            start_response(
                "400 BAD REQUEST",
                [
                    ("Content-Type", "application/json"),
                    ("Content-Length", str(len(payload))),
                    (REASON_HEADER, MALFORMED),
                    *headers,
                ],
            )
            return [payload]
        start_response(
            "202 ACCEPTED",
            [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Length", "0"),
                (REASON_HEADER, verdict.reason),
                *headers,
            ],
        )
        return [b""]

    def _pixel(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        raw = hit_from_pixel(Request(environ), self.trusted_proxies)
        reason = MALFORMED if raw is None else self._record(raw).reason
        start_response(
            "200 OK",
            [
                *pixel_headers(reason).items(),
                ("Content-Length", str(len(GIF))),
                (REQUEST_ID_HEADER, request_id_for(environ.get("HTTP_X_REQUEST_ID", ""))),
            ],
        )
        return [GIF]


def install(app: Flask) -> None:
    """Put the fast path in front of ``app`` (``app.wsgi_app``)."""
    app.wsgi_app = IngestFastPath(app, app.wsgi_app)  # type: ignore[method-assign]
