"""Logging: ``dictConfig`` from YAML, a request id on every line, one access log.

:func:`configure_logging` runs before the Flask app exists (Flask's logging docs), so
the first lines the app writes already have the final format. The same dictionary
configures gunicorn (see :mod:`page_tracker.serving`), so app, gunicorn and werkzeug
share one format and one set of files.

Access lines are private by default (:class:`PrivateAccessFilter`): a reader's address
is cut to its /24 (IPv4) or /48 (IPv6) network, request and Referer URLs lose their
query string and fragment, and a User-Agent keeps only its product names with major
versions (``Mozilla/5 AppleWebKit/537 Chrome/124 Safari/537``). ``LOG_FULL_ACCESS=true``
writes them whole.
"""

from __future__ import annotations

import ipaddress
import logging
import logging.config
import random
import re
import string
from collections.abc import Mapping
from contextvars import ContextVar
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

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
            elif record.name == "granian.access" and isinstance(record.args, dict):
                request_id = _granian_request_id(record)
        record.request_id = request_id
        return True


def _granian_request_id(record: logging.LogRecord) -> str:
    """The request id of a granian access line: the caller's (nginx's) ``X-Request-ID``
    when it is safe to log (the id the app echoed), else ``-``. It moves from the end of
    the message into the line's ``[request-id]`` prefix (once: every handler filters)."""
    atoms = record.args
    if not hasattr(record, "granian_request_id") and isinstance(atoms, dict):
        incoming = str(atoms.get(_GRANIAN_REQUEST_ID, "-"))
        atoms[_GRANIAN_REQUEST_ID] = ""
        record.granian_request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else "-"
    return str(getattr(record, "granian_request_id", "-"))


def private_address(text: str) -> str:
    """``text``'s network: an IPv4 address cut to /24, IPv6 to /48; ``-`` for anything
    that is not an address (a host name or a socket path could name a reader too)."""
    text = text.strip()
    if "/" in text:  # already a network (a record filtered twice): cut it again
        text = text.split("/", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return "-"
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 48
    network = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
    return f"{network.network_address}/{prefix}"


def private_addresses(text: str) -> str:
    """:func:`private_address` of each entry of an ``X-Forwarded-For`` list."""
    if text in {"", "-"}:
        return text
    return ", ".join(private_address(part) for part in text.split(","))


def private_url(text: str) -> str:
    """``text`` without query string, fragment and user info (a path stays a path)."""
    if text in {"", "-"}:
        return text
    try:
        parts = urlsplit(text)
        host = parts.netloc.rpartition("@")[2]
    except ValueError:
        return "-"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def private_request_line(text: str) -> str:
    """``GET /count.gif?url=... HTTP/1.1`` -> ``GET /count.gif HTTP/1.1``."""
    method, _, rest = text.partition(" ")
    target, _, protocol = rest.rpartition(" ") if rest.count(" ") else (rest, "", "")
    return " ".join(part for part in (method, private_url(target), protocol) if part)


_PRODUCT = re.compile(r"([A-Za-z][A-Za-z0-9_+-]{0,39})(?:/(\d{1,6}))?")
_COMMENT = re.compile(r"\([^()]*\)")


def private_user_agent(text: str) -> str:
    """A User-Agent's product names with major versions, without its comments (where
    the OS, device and full versions are): at most six products."""
    if text in {"", "-"}:
        return text
    products = []
    for token in _COMMENT.sub(" ", text).split()[:6]:
        match = _PRODUCT.match(token)
        if match and not any(char in token for char in "();,"):
            name, major = match.groups()
            products.append(f"{name}/{major}" if major else name)
    return " ".join(products) or "-"


# granian's access line (``page-tracker serve --access-log``). granian hands the request
# headers a format names to the record as ``_h0``, ``_h1``... in the order they appear,
# so the atoms below follow this order: X-Forwarded-For, Referer, User-Agent, and the
# X-Request-ID (nginx sets it) that :class:`RequestIdFilter` puts in the line's prefix.
GRANIAN_ACCESS_FORMAT = (
    '%(addr)s %(header{x-forwarded-for})s "%(method)s %(path)s%(query_string)s %(protocol)s" '
    '%(status)d %(dt_ms).1fms "%(header{referer})s" "%(header{user-agent})s"'
    "%(header{x-request-id})s"
)
_GRANIAN_REQUEST_ID = "_h3"

# gunicorn's access atoms (header atoms are lower case) and granian's, by what they hold.
_ADDRESS_ATOMS = ("h", "{x-forwarded-for}i", "{x-real-ip}i", "{forwarded}i", "addr", "_h0")
_URL_ATOMS = ("f", "{referer}i", "{origin}i", "_h1")
_REQUEST_ATOMS = ("r",)
_QUERY_ATOMS = ("q", "query_string")
_AGENT_ATOMS = ("a", "{user-agent}i", "_h2")


class PrivateAccessFilter(logging.Filter):
    """Rewrites the arguments of access log records (gunicorn's and granian's, whose
    arguments are a dict of atoms) so the line holds no reader's full address, no query
    string and no full User-Agent; ``full=True`` lets them through unchanged."""

    def __init__(self, full: bool = False) -> None:
        super().__init__()
        self.full = full

    def filter(self, record: logging.LogRecord) -> bool:
        atoms = record.args
        if not isinstance(atoms, dict):
            return True
        if self.full:
            # granian's query string comes without its "?" (the format joins it to the path)
            query = str(atoms.get("query_string") or "")
            if query and not query.startswith("?"):
                atoms["query_string"] = "?" + query
            return True
        for keys, private in (
            (_ADDRESS_ATOMS, private_addresses),
            (_URL_ATOMS, private_url),
            (_REQUEST_ATOMS, private_request_line),
            (_AGENT_ATOMS, private_user_agent),
        ):
            for key in keys:
                if key in atoms:
                    atoms[key] = private(str(atoms[key]))
        for key in _QUERY_ATOMS:
            if key in atoms:
                atoms[key] = ""
        return True


def load_logging_config(
    log_config: Path | None, log_dir: Path, log_level: str = "INFO", *, full_access: bool = False
) -> dict[str, Any]:
    """Read the YAML logging config (``LOG_CONFIG`` or the packaged default);
    ``${LOG_DIR}``, ``${LOG_LEVEL}`` and ``${LOG_FULL_ACCESS}`` are substituted."""
    if log_config is not None:
        text = log_config.read_text(encoding="utf-8")
    else:
        text = resources.files("page_tracker").joinpath("logging.yaml").read_text("utf-8")
    text = string.Template(text).safe_substitute(
        LOG_DIR=log_dir.as_posix(),
        LOG_LEVEL=log_level,
        LOG_FULL_ACCESS="true" if full_access else "false",
    )
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


def configure_logging(
    log_config: Path | None, log_dir: Path, log_level: str = "INFO", *, full_access: bool = False
) -> None:
    """Apply the logging configuration; creates the log directory first."""
    log_dir.mkdir(parents=True, exist_ok=True)
    config = load_logging_config(log_config, log_dir, log_level, full_access=full_access)
    logging.config.dictConfig(config)


def request_id_for(incoming: str) -> str:
    """The caller's request id when it is safe to log, else a new one."""
    if _SAFE_REQUEST_ID.match(incoming):
        return incoming
    # A log correlation id, not a secret: no system call per request (os.urandom
    # released the GIL on every hit, a thread switch each under load; bench/README.md).
    # The random module reseeds itself in a forked worker.
    return f"{random.getrandbits(128):032x}"  # nosec B311


class request_id_scope:  # noqa: N801 - used as a function: ``with request_id_scope(environ)``
    """The id of a request served without Flask (the caller's ``X-Request-ID`` when safe,
    else a new one): log lines written inside the ``with`` block carry it, as a Flask
    request's lines carry theirs. A class, not a generator-based context manager: it
    runs on every lean-path request, and costs 0.7 µs less each (bench/README.md)."""

    __slots__ = ("_token", "request_id")

    def __init__(self, environ: Mapping[str, Any]) -> None:
        self.request_id = request_id_for(str(environ.get("HTTP_X_REQUEST_ID", "")))

    def __enter__(self) -> str:
        self._token = _outside_flask.set(self.request_id)
        return self.request_id

    def __exit__(self, *_exc: object) -> None:
        _outside_flask.reset(self._token)


def _assign_request_id() -> None:
    g.request_id = request_id_for(request.headers.get(REQUEST_ID_HEADER, ""))


def _echo_request_id(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = g.get("request_id", "-")
    return response


def init_request_ids(app: Flask) -> None:
    """Give every request an id (the caller's ``X-Request-ID`` when safe) and echo it."""
    app.before_request(_assign_request_id)
    app.after_request(_echo_request_id)
