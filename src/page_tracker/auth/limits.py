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

import functools
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
    # 0.15 ms of CPU a request): every request but a sign-in is exempt at once, and its
    # hook is not even entered for them (the filter would exempt them inside it).
    limiter.request_filter(_not_limited)
    _enter_only_when_limited(app, limiter)
    return LIMITER.put(app, limiter)


def _enter_only_when_limited(app: Flask, limiter: Limiter) -> None:
    """Run flask-limiter's request hooks (before, after, teardown) only for the requests
    its request filter does not exempt: for the others they find no limit after ~40 µs
    of work a request (no meta limits are configured, and the filter exempts every other
    limit), and keep no state."""
    before = limiter._check_request_limit
    after = functools.partial(Limiter._Limiter__inject_headers, limiter)  # type: ignore[attr-defined]
    teardown = limiter._Limiter__release_context  # type: ignore[attr-defined]

    def before_limited() -> None:
        if not _not_limited():
            before()

    def after_limited(response: Response) -> Response:
        return response if _not_limited() else after(response)

    def teardown_limited(error: BaseException | None = None) -> None:
        if not _not_limited():
            teardown(error)

    before_hooks = app.before_request_funcs.get(None, [])
    before_hooks[_only(before_hooks, lambda hook: hook == before)] = before_limited
    after_hooks = app.after_request_funcs.get(None, [])
    after_hooks[_only(after_hooks, lambda hook: _same_partial(hook, after))] = after_limited
    teardown_hooks = app.teardown_request_funcs.get(None, [])
    teardown_hooks[_only(teardown_hooks, lambda hook: hook == teardown)] = teardown_limited


def _same_partial(hook: object, original: functools.partial[Any]) -> bool:
    return (
        isinstance(hook, functools.partial)
        and hook.func is original.func
        and hook.args == original.args
    )


def _only(hooks: list[Any], matches: Callable[[Any], bool]) -> int:
    """The position of the one hook that ``matches`` (flask-limiter installed it)."""
    found = [number for number, hook in enumerate(hooks) if matches(hook)]
    if len(found) != 1:
        raise RuntimeError("flask-limiter's request hooks are not where they were")
    return found[0]


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
