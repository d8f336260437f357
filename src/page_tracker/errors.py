"""Exceptions and the one JSON error shape.

Exception tree::

    PageTrackerError
    ├── ConfigError            invalid configuration; message is one printable line
    ├── StoreError             a counter store (Redis or database) failed
    └── APIError               becomes {"code", "error_code", "message", "details"}
        ├── ValidationFailed   400
        ├── Unauthorized       401
        ├── Forbidden          403
        ├── NotFound           404
        ├── Conflict           409
        ├── PayloadTooLarge    413
        ├── UnsupportedMediaType 415
        ├── Unprocessable      422  well-formed, but the current state refuses it
        ├── TooManyRequests    429
        └── ServiceUnavailable 503  a service it needs is down; retry shortly

Every error under ``/api`` (and 404/405 anywhere a JSON client asks) is answered as
``{"code": HTTP_STATUS, "error_code": INT, "message": "...", "details": ...}``; the
``error_code`` is ``HTTP_STATUS * 100 + n`` so clients can branch on finer causes.
No stack trace or SQL ever reaches a response.
"""

from __future__ import annotations

import json
import logging
from typing import Any, ClassVar

from flask import Flask, Request, Response, request
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError

from page_tracker.metrics import METRICS, POOL_EXHAUSTED

log = logging.getLogger(__name__)


class PageTrackerError(Exception):
    """Base class of every error page-tracker raises on purpose."""


class ConfigError(PageTrackerError):
    """The configuration is invalid; ``str(error)`` is one line naming the variable."""


class StoreError(PageTrackerError):
    """A counter store could not be read or written."""


class APIError(PageTrackerError):
    """An error answered to an API client with the JSON error shape."""

    code: ClassVar[int] = 500
    error_code: ClassVar[int] = 50000
    message: str = "Internal server error"

    def __init__(
        self,
        message: str | None = None,
        *,
        details: Any = None,
        error_code: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        self.details = details
        self.instance_error_code = error_code or self.error_code
        self.headers = headers or {}

    def to_dict(self) -> dict[str, Any]:
        return error_body(self.code, self.instance_error_code, self.message, self.details)


class ValidationFailed(APIError):
    code = 400
    error_code = 40000
    message = "The request is invalid"


class Unauthorized(APIError):
    code = 401
    error_code = 40100
    message = "Authentication required"


class Forbidden(APIError):
    code = 403
    error_code = 40300
    message = "You may not do this"


class NotFound(APIError):
    code = 404
    error_code = 40400
    message = "Not found"


class Conflict(APIError):
    code = 409
    error_code = 40900
    message = "Conflict with the current state"


class PayloadTooLarge(APIError):
    code = 413
    error_code = 41300
    message = "The body is too large"


class UnsupportedMediaType(APIError):
    code = 415
    error_code = 41500
    message = "Unsupported content type"


class Unprocessable(APIError):
    code = 422
    error_code = 42200
    message = "The request cannot be carried out"


class TooManyRequests(APIError):
    code = 429
    error_code = 42900
    message = "Too many requests"


class ServiceUnavailable(APIError):
    code = 503
    error_code = 50300
    message = "A service the request needs is unavailable; retry shortly"


def error_body(code: int, error_code: int, message: str, details: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "error_code": error_code, "message": message}
    if details is not None:
        body["details"] = details
    return body


def error_json(body: dict[str, Any]) -> bytes:
    """The one serialisation of the error shape (compact JSON, a final newline), for
    every way an error leaves the app: the handlers below, the ingest routes and the
    Busuanzi refusals."""
    return json.dumps(body, separators=(",", ":")).encode() + b"\n"


def wants_json(req: Request) -> bool:
    """True for API paths and for clients that prefer JSON over HTML."""
    if req.path.startswith("/api/"):
        return True
    best = req.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        best == "application/json"
        and req.accept_mimetypes[best] > req.accept_mimetypes["text/html"]
    )


def _json_response(body: dict[str, Any], status: int) -> Response:
    return Response(error_json(body), status, content_type="application/json")


def handle_api_error(error: APIError) -> Response:
    response = _json_response(error.to_dict(), error.code)
    response.headers.update(error.headers)  # WWW-Authenticate, Retry-After
    return response


def handle_http_exception(error: HTTPException) -> Response | HTTPException:
    if not wants_json(request):
        return error
    if isinstance(error.response, Response):  # made by its raiser (the sign-in limits)
        return error.response
    code = error.code or 500
    response = _json_response(error_body(code, code * 100, error.description or error.name), code)
    if code == 405 and error.get_headers():  # keep the Allow header
        for name, value in error.get_headers():
            if name.lower() == "allow":
                response.headers[name] = value
    return response


RETRY_AFTER_SECONDS = 1


def handle_pool_timeout(_error: Exception) -> Response:
    """Every pooled database connection is in use: overload, answered at once with
    ``503`` and ``Retry-After`` (and counted) rather than after a long wait."""
    METRICS.get().count(POOL_EXHAUSTED)
    log.warning(
        "Refused %s %s: the database connection pool is exhausted", request.method, request.path
    )
    body = error_body(503, 50301, "The server is busy; retry shortly")
    response = _json_response(body, 503)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def handle_unexpected(error: Exception) -> Response | HTTPException:
    # Flask already logged the traceback via app.logger; answer without details.
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    log.exception("Unhandled error", exc_info=error)
    return handle_http_exception(InternalServerError())


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(APIError, handle_api_error)
    app.register_error_handler(PoolTimeout, handle_pool_timeout)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
