"""The lean way in: ``POST /api/v1/hits`` and ``GET /count.gif`` answered as plain WSGI.

A Flask request costs about 100 µs of routing, context and hook machinery before the
view runs; a hit itself costs about 40 µs. :class:`LeanIngest` sits in front of the
Flask app (``app.wsgi_app``) and answers those two routes with the same route functions
the Flask views adapt (:mod:`page_tracker.ingest.routes`), adding the request id as
Flask's request hooks do (log lines written meanwhile carry it too). Everything else,
and every request it does not fully understand (a body too large or of unknown length),
goes to Flask unchanged. A hits body is read by the route itself, within its limit
(:func:`page_tracker.ingest.parsing.read_body`), whatever its size or framing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from flask import Flask
from werkzeug.http import HTTP_STATUS_CODES

from page_tracker.headers import NOSNIFF
from page_tracker.ingest.routes import (
    HITS_PATH,
    PIXEL_PATH,
    IngestRequest,
    IngestResponse,
    IngestRoutes,
)
from page_tracker.logs import REQUEST_ID_HEADER, request_id_scope

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

Route = Callable[[IngestRequest], IngestResponse]


def _status_line(status: int) -> str:
    return f"{status} {HTTP_STATUS_CODES[status].upper()}"  # as werkzeug writes it


class LeanIngest:
    """WSGI middleware answering the ingest routes without Flask's dispatch."""

    def __init__(self, routes: IngestRoutes, wsgi_app: WSGIApplication) -> None:
        self.routes = routes
        self.next = wsgi_app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO")
        method = environ.get("REQUEST_METHOD")
        if path == HITS_PATH and method == "POST":
            return self._answer(self.routes.post_hits, IngestRequest(environ), start_response)
        if path == PIXEL_PATH and method == "GET":
            return self._answer(self.routes.count_gif, IngestRequest(environ), start_response)
        return self.next(environ, start_response)

    @staticmethod
    def _answer(
        route: Route, request: IngestRequest, start_response: StartResponse
    ) -> Iterable[bytes]:
        with request_id_scope(request.environ) as request_id:
            response = route(request)
        start_response(
            _status_line(response.status),
            [
                *response.headers,
                ("Content-Length", str(len(response.body))),
                (REQUEST_ID_HEADER, request_id),
                NOSNIFF,  # as Flask's answers carry it (page_tracker.headers)
            ],
        )
        return [response.body]


def install(app: Flask, routes: IngestRoutes) -> None:
    """Put the lean path in front of ``app`` (``app.wsgi_app``)."""
    app.wsgi_app = LeanIngest(routes, app.wsgi_app)  # type: ignore[method-assign]
