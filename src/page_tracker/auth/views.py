"""``/api/v1/tokens`` (bearer tokens) and ``/api/v1/session`` (the dashboard's cookie)."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Flask

from page_tracker.auth import audit
from page_tracker.auth.limits import sign_in_limited
from page_tracker.auth.models import ApiToken
from page_tracker.auth.principal import (
    csrf_token,
    current_principal,
    end_session,
    require,
    start_session,
)
from page_tracker.auth.schemas import (
    Credentials,
    SessionOut,
    TokenCreated,
    TokenList,
    TokenOut,
    TokenRequest,
)
from page_tracker.auth.tokens import (
    Scope,
    expires_at,
    issue_token,
    list_tokens,
    revoke_token,
    token_scopes,
)
from page_tracker.db import get_session
from page_tracker.errors import Unauthorized
from page_tracker.json_api import ROW_ID, operation
from page_tracker.users.models import User
from page_tracker.users.services import authenticate


def _token_out(token: ApiToken) -> TokenOut:
    return TokenOut(
        id=token.id,
        name=token.name,
        prefix=token.prefix,
        scopes=list(token_scopes(token)),
        created_at=token.created_at,
        expires_at=expires_at(token),
        last_used_at=token.last_used_at,
    )


def _signed_in(email: str, password: str) -> User:
    """The user these credentials are for; a failure is written to the audit log and
    answered 401 (which the sign-in limits count)."""
    session = get_session()
    user = authenticate(session, email, password)
    if user is None:
        session.rollback()
        audit.record(session, audit.Event.SIGN_IN_FAILED)
        session.commit()
        raise Unauthorized("wrong email or password")
    audit.record(session, audit.Event.SIGN_IN, user_id=user.id)
    return user


def make_blueprint(app: Flask) -> Blueprint:
    blueprint = Blueprint("auth", __name__, url_prefix="/api/v1")
    limited = sign_in_limited(app)

    @blueprint.post("/tokens")
    @limited
    @operation(
        "Sign in and create a bearer token (shown once)",
        tag="auth",
        access="public",
        body=TokenRequest,
        responses={201: TokenCreated},
        errors=(400, 401, 403, 413, 415, 429),
    )
    def create_token(body: TokenRequest) -> tuple[TokenCreated, int]:
        user = _signed_in(body.email, body.password)
        session = get_session()
        token, clear = issue_token(
            session,
            user,
            body.scopes,
            expires_in=timedelta(days=body.expires_in_days),
            name=body.name,
        )
        session.commit()
        return TokenCreated(**_token_out(token).model_dump(), token=clear), 201

    @blueprint.get("/tokens")
    @operation(
        "List your tokens", tag="auth", access="read", responses={200: TokenList}, errors=(401, 403)
    )
    def get_tokens() -> TokenList:
        principal = require(Scope.READ)
        return TokenList([_token_out(t) for t in list_tokens(get_session(), principal.user)])

    @blueprint.delete(f"/tokens/<{ROW_ID}:token_id>")
    @operation(
        "Revoke a token (yours; admins: anybody's)",
        tag="auth",
        access="write",
        responses={204: None},
        errors=(401, 403, 404),
    )
    def delete_token(token_id: int) -> None:
        principal = require(Scope.WRITE)
        session = get_session()
        revoke_token(session, principal.user, token_id)
        session.commit()

    @blueprint.post("/session")
    @limited
    @operation(
        "Sign the browser in (session cookie for the dashboard)",
        tag="auth",
        access="public",
        body=Credentials,
        responses={200: SessionOut},
        errors=(400, 401, 413, 415, 429),
    )
    def sign_in(body: Credentials) -> SessionOut:
        user = _signed_in(body.email, body.password)
        get_session().commit()
        token = start_session(user)
        return SessionOut(user_id=user.id, email=user.email, role=user.role, csrf_token=token)

    @blueprint.get("/session")
    @operation(
        "Who is signed in, and the session's CSRF token",
        tag="auth",
        access="read",
        responses={200: SessionOut},
        errors=(401,),
    )
    def whoami() -> SessionOut:
        principal = require(Scope.READ)
        user = principal.user
        return SessionOut(
            user_id=user.id, email=user.email, role=user.role, csrf_token=csrf_token()
        )

    @blueprint.delete("/session")
    @operation(
        "Sign the browser out", tag="auth", access="public", responses={204: None}, errors=(403,)
    )
    def sign_out() -> None:
        principal = current_principal()
        if principal is not None and principal.by_session:
            require(Scope.READ)  # the CSRF check: a foreign page must not sign you out
            session = get_session()
            audit.record(session, audit.Event.SIGN_OUT, user_id=principal.user.id)
            session.commit()
        end_session()

    return blueprint
