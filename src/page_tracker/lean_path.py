"""The lean way in: the hottest public routes answered as plain WSGI, in front of Flask.

A Flask request costs a few hundred µs of routing, request context, hooks and
extension checks before and after its view: more than counting a hit or reading cached
counters. :class:`LeanPath` sits in front of the Flask app (``app.wsgi_app``) and
answers the routes features registered with :func:`add_route` (the hit routes, the
Busuanzi counter, the public counters and badges) by calling the same route function
their Flask view adapts, so both ways answer alike. It adds what Flask's hooks add to
every answer: ``Content-Length``, the request id (log lines written meanwhile carry it)
and the headers of :mod:`page_tracker.headers`. A route may decline a request
(``None``): it then goes to Flask unchanged, as does every request no route claims.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Flask, Response
from werkzeug.http import HTTP_STATUS_CODES

from page_tracker.extensions import Extension
from page_tracker.headers import lean_headers
from page_tracker.logs import REQUEST_ID_HEADER, request_id_scope

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


@dataclass(frozen=True, slots=True)
class LeanResponse:
    """What a route answers; the way in adds ``Content-Length`` and ``X-Request-ID``."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


def flask_response(answer: LeanResponse) -> Response:
    """A route's answer as a Flask view returns it (the other way in): ``Content-Length``
    comes from the body, ``X-Request-ID`` from the request hooks (:mod:`page_tracker.logs`)."""
    return Response(answer.body, answer.status, list(answer.headers))


# A route reads the request's WSGI environ; ``None`` hands the request to Flask.
Route = Callable[[Mapping[str, Any]], LeanResponse | None]


_NO_BODY = frozenset({204, 304})


def _status_line(status: int) -> str:
    return f"{status} {HTTP_STATUS_CODES[status].upper()}"  # as werkzeug writes it


class LeanPath:
    """WSGI middleware answering registered routes without Flask's dispatch: exact
    paths, and paths made of a fixed start and end around one segment (``/badge/`` …
    ``.svg``), per method."""

    def __init__(self, wsgi_app: WSGIApplication) -> None:
        self.next = wsgi_app
        self.exact: dict[tuple[str, str], Route] = {}
        self.around: list[tuple[str, str, str, Route]] = []

    def add(self, method: str, path: str, route: Route) -> None:
        self.exact[(method, path)] = route

    def add_around(self, method: str, start: str, end: str, route: Route) -> None:
        self.around.append((method, start, end, route))

    def in_front_of(self, wsgi_app: WSGIApplication) -> LeanPath:
        """The same routes in front of another app (to compare both ways in)."""
        other = LeanPath(wsgi_app)
        other.exact, other.around = dict(self.exact), list(self.around)
        return other

    def _route(self, method: str, path: str) -> Route | None:
        route = self.exact.get((method, path))
        if route is not None:
            return route
        for wanted, start, end, candidate in self.around:
            if (
                method == wanted
                and path.startswith(start)
                and path.endswith(end)
                and len(path) > len(start) + len(end)
                and "/" not in path[len(start) : len(path) - len(end)]
            ):
                return candidate
        return None

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        route = self._route(environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", ""))
        if route is None:
            return self.next(environ, start_response)
        with request_id_scope(environ) as request_id:
            response = route(environ)
        if response is None:
            return self.next(environ, start_response)
        # No Content-Length on answers that never have a body (as werkzeug leaves it out)
        length = (
            () if response.status in _NO_BODY else (("Content-Length", str(len(response.body))),)
        )
        start_response(
            _status_line(response.status),
            [
                *response.headers,
                *length,
                (REQUEST_ID_HEADER, request_id),
                *lean_headers(response.headers),
            ],
        )
        return [response.body]


LEAN_PATH: Extension[LeanPath] = Extension(
    "page_tracker.lean_path", "the routes answered in front of Flask (plain WSGI)"
)


def _lean_path(app: Flask) -> LeanPath:
    found = LEAN_PATH.find(app)
    if found is None:
        found = LEAN_PATH.put(app, LeanPath(app.wsgi_app))
        app.wsgi_app = found  # type: ignore[method-assign]
    return found


def add_route(app: Flask, method: str, path: str, route: Route) -> None:
    """Answer ``method path`` with ``route`` in front of ``app``'s Flask dispatch."""
    _lean_path(app).add(method, path, route)


def add_route_around(app: Flask, method: str, start: str, end: str, route: Route) -> None:
    """Answer ``method`` on the paths ``start`` + one segment + ``end`` with ``route``."""
    _lean_path(app).add_around(method, start, end, route)
