"""Failed sign-ins are limited per client address and per account (flask-limiter).

Only failures count (a 401 answer), so a user who signs in right is never slowed; once
either budget is spent, sign-ins from that address or for that account are answered
``429`` with ``Retry-After`` until the window passes. The counters live in Redis in
Redis mode (every web process sees them; keys under ``REDIS_KEY_PREFIX`` +
``limits:``), in the process's memory in embedded mode (one process, or per process),
and in memory too while Redis does not answer. Keys are keyed hashes: neither an address
nor an email is written to Redis.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter, RequestLimit

from page_tracker.errors import TooManyRequests, handle_api_error
from page_tracker.extensions import Extension
from page_tracker.remote_address import address_key
from page_tracker.settings import SETTINGS

LIMITER: Extension[Limiter] = Extension("page_tracker.limiter", "the sign-in rate limits")
# Set on the views :func:`sign_in_limited` wraps: the only ones the limiter looks at.
_LIMITED = "page_tracker_sign_in_limited"
# flask-limiter keeps its own registry of an app's limiters under this key.
LIMITERS: Extension[set[Limiter]] = Extension("limiter", "flask-limiter's limiters of the app")


def _account_key() -> str:
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    name = email.strip().lower() if isinstance(email, str) else ""
    secret = SETTINGS.get().secret_key.get_secret_value().encode()
    return hmac.new(secret, name.encode(), hashlib.sha256).hexdigest()[:16]


def _address_key() -> str:
    return address_key(request.environ)


def _refused(limit: RequestLimit) -> Response:
    wait = max(1, int(limit.reset_at - time.time()))
    return handle_api_error(
        TooManyRequests(
            "too many failed sign-ins; try again later",
            headers={"Retry-After": str(wait)},
        )
    )


def _failed(response: Response) -> bool:
    return response.status_code == 401


def init_limiter(app: Flask) -> Limiter:
    settings = SETTINGS.get(app)
    limiter = Limiter(
        _address_key,
        storage_uri=settings.redis_url or "memory://",
        key_prefix=f"{settings.redis_key_prefix}limits",
        strategy="fixed-window",
        in_memory_fallback_enabled=True,
        swallow_errors=True,
        on_breach=_refused,
        headers_enabled=False,
    )
    limiter.init_app(app)
    # flask-limiter looks for limits on every request (its own before_request hook,
    # 0.15 ms of CPU a request): every request but a sign-in is exempt at once. Its hooks
    # are still entered (~40 µs a request): skipping them would mean patching its
    # name-mangled private methods, too deep for that much (bench/README.md).
    limiter.request_filter(_not_limited)
    return LIMITER.put(app, limiter)


def _not_limited() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return not getattr(view, _LIMITED, False)


def sign_in_limited(app: Flask) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The two budgets of failed sign-ins of ``app``, for its sign-in views."""
    settings = SETTINGS.get(app)
    limiter = LIMITER.get(app)
    by_address = limiter.shared_limit(
        settings.login_limits_per_address,
        scope="sign-in-address",
        key_func=_address_key,
        deduct_when=_failed,
    )
    by_account = limiter.shared_limit(
        settings.login_limits_per_account,
        scope="sign-in-account",
        key_func=_account_key,
        deduct_when=_failed,
    )

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        limited = by_address(by_account(view))
        setattr(limited, _LIMITED, True)
        return limited

    return decorate
