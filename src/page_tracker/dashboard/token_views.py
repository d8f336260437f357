"""``/dashboard/tokens``: the signed-in user's API tokens. Listing reads the tokens
service; creating (with the password again, as ``POST /api/v1/tokens`` asks) and
revoking go through the tokens API from the page's script."""

from __future__ import annotations

from flask import Blueprint

from page_tracker.auth.tokens import Scope, expires_at, list_tokens, token_scopes
from page_tracker.dashboard.pages import page, signed_in, strict_headers
from page_tracker.db import get_session

blueprint = Blueprint("dashboard_tokens", __name__, url_prefix="/dashboard")
blueprint.after_request(strict_headers)


@blueprint.get("/tokens")
def tokens() -> tuple[str, int]:
    principal = signed_in()
    if principal is None:
        return page("sign_in.html", 401)
    user = principal.user
    rows = [
        (token, token_scopes(token), expires_at(token))
        for token in list_tokens(get_session(), user)
    ]
    scopes = [Scope.READ, Scope.WRITE, *([Scope.ADMIN] if user.is_admin else [])]
    return page("tokens.html", user=user, rows=rows, scopes=scopes)
