"""Logging: ``dictConfig`` from YAML, a request id on every line, one access log.

:func:`configure_logging` runs before the Flask app exists (Flask's logging docs), so
the first lines the app writes already have the final format. The same dictionary
configures gunicorn (see :mod:`page_tracker.serving`), so app, gunicorn and werkzeug
share one format and one set of files.
"""

from __future__ import annotations

import logging
import logging.config
import os
import re
import string
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from flask import Flask, Response, g, has_request_context, request

from page_tracker.redaction import RedactSecretsFilter

REQUEST_ID_HEADER = "X-Request-ID"
REDACT_FILTER = "redact_secrets"
# Accept a caller's id only when it is short and harmless to write into a log line.
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# The id of a request answered outside Flask (the lean ingest path), while it is handled.
_outside_flask: ContextVar[str | None] = ContextVar("page_tracker_request_id", default=None)


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id``: the current request's id, or ``-`` outside a request.

    A Flask request keeps its id in ``g``; a request answered before Flask (the lean
    ingest path) in a context variable, see :func:`request_id_scope`. Gunicorn writes
    its access line after the app returned, outside the request context; there the id
    is read from the response header the app set.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = _outside_flask.get()
        if request_id is None:
            request_id = "-"
            if has_request_context():
                request_id = g.get("request_id", "-")
            elif record.name == "gunicorn.access" and isinstance(record.args, dict):
                request_id = str(record.args.get("{x-request-id}o", "-"))
        record.request_id = request_id
        return True


def load_logging_config(
    log_config: Path | None, log_dir: Path, log_level: str = "INFO"
) -> dict[str, Any]:
    """Read the YAML logging config (``LOG_CONFIG`` or the packaged default)."""
    if log_config is not None:
        text = log_config.read_text(encoding="utf-8")
    else:
        text = resources.files("page_tracker").joinpath("logging.yaml").read_text("utf-8")
    text = string.Template(text).safe_substitute(LOG_DIR=log_dir.as_posix(), LOG_LEVEL=log_level)
    config: dict[str, Any] = yaml.safe_load(text)
    return with_secrets_redacted(config)


def with_secrets_redacted(config: dict[str, Any]) -> dict[str, Any]:
    """``config`` with :class:`~page_tracker.redaction.RedactSecretsFilter` on every
    handler, an operator's ``LOG_CONFIG`` included: no secret reaches a log line
    whatever the configuration says."""
    config.setdefault("filters", {})[REDACT_FILTER] = {"()": RedactSecretsFilter}
    for handler in (config.get("handlers") or {}).values():
        filters = handler.setdefault("filters", [])
        if REDACT_FILTER not in filters:
            filters.insert(0, REDACT_FILTER)
    return config


def configure_logging(log_config: Path | None, log_dir: Path, log_level: str = "INFO") -> None:
    """Apply the logging configuration; creates the log directory first."""
    log_dir.mkdir(parents=True, exist_ok=True)
    logging.config.dictConfig(load_logging_config(log_config, log_dir, log_level))


def request_id_for(incoming: str) -> str:
    """The caller's request id when it is safe to log, else a new one."""
    return incoming if _SAFE_REQUEST_ID.match(incoming) else os.urandom(16).hex()


@contextmanager
def request_id_scope(environ: Mapping[str, Any]) -> Iterator[str]:
    """The id of a request served without Flask (the caller's ``X-Request-ID`` when safe,
    else a new one): log lines written inside the ``with`` block carry it, as a Flask
    request's lines carry theirs."""
    request_id = request_id_for(str(environ.get("HTTP_X_REQUEST_ID", "")))
    token = _outside_flask.set(request_id)
    try:
        yield request_id
    finally:
        _outside_flask.reset(token)


def _assign_request_id() -> None:
    g.request_id = request_id_for(request.headers.get(REQUEST_ID_HEADER, ""))


def _echo_request_id(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = g.get("request_id", "-")
    return response


def init_request_ids(app: Flask) -> None:
    """Give every request an id (the caller's ``X-Request-ID`` when safe) and echo it."""
    app.before_request(_assign_request_id)
    app.after_request(_echo_request_id)
