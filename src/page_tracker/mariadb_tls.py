"""One TLS context per process for MariaDB connections in PyMySQL's PREFERRED mode.

A MariaDB URL that names no TLS option connects in PyMySQL's "PREFERRED" mode:
encrypted when the server offers TLS, with no certificate check (``CERT_NONE``). For
that PyMySQL builds a new ``ssl.create_default_context()`` on *every* connection, and
that loads the system's CA bundle, which a context that checks no certificate never
reads: 55 - 220 ms of CPU a connection measured here (cProfile: all of it in
``set_default_verify_paths``), against ~3 ms for the rest of the connect. A stats read
that opens a connection paid it every time.

The context PyMySQL builds for PREFERRED mode is the same on every connection, so one
built per process serves them all: the same encryption, the same (absent) verification.
A URL with TLS options of its own (``ssl_ca``, ``ssl_disabled``, ...) is left to
PyMySQL's own per-connection handling.
"""

from __future__ import annotations

import functools
import ssl
from typing import Any

import pymysql.connections  # type: ignore[import-untyped]  # no stubs installed
from sqlalchemy import Engine, event


class _SharedPreferredContext(pymysql.connections.Connection):  # type: ignore[misc]
    """PyMySQL's connection, with the PREFERRED mode's context built once a process."""

    def _create_ssl_ctx(self, sslp: Any) -> ssl.SSLContext:
        if sslp:  # options of the URL's own: PyMySQL's context, as before
            return super()._create_ssl_ctx(sslp)  # type: ignore[no-any-return]
        return preferred_context()


@functools.cache
def preferred_context() -> ssl.SSLContext:
    """The context PyMySQL makes for PREFERRED mode (its own code, called once)."""
    build = pymysql.connections.Connection._create_ssl_ctx
    return build(None, {})  # type: ignore[no-any-return]


def _connect(_dialect: Any, _record: Any, cargs: Any, cparams: dict[str, Any]) -> Any:
    if any(name.startswith("ssl") for name in cparams):
        return None  # SQLAlchemy connects as usual
    return _SharedPreferredContext(*cargs, **cparams)


def share_preferred_tls_context(engine: Engine) -> None:
    """Make ``engine``'s PyMySQL connections share one PREFERRED-mode TLS context."""
    if engine.dialect.driver == "pymysql":
        event.listen(engine, "do_connect", _connect)
