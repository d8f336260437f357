"""What the token and session endpoints take and answer (also their OpenAPI schemas)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, RootModel

from page_tracker.auth.tokens import Scope
from page_tracker.json_api import PlainText, UtcDatetime
from page_tracker.users.passwords import MAX_PASSWORD_LENGTH

Email = Annotated[PlainText, Field(min_length=3, max_length=254, examples=["ada@example.com"])]
Password = Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)]


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    password: Password


class TokenRequest(Credentials):
    """Sign in and get a token: it is shown once, in this answer only."""

    name: PlainText = Field(default="", max_length=100, description="To recognise it in lists.")
    scopes: list[Scope] = Field(
        default=[Scope.READ, Scope.WRITE],
        min_length=1,
        max_length=3,
        description="read < write < admin (admin: admins only).",
    )
    expires_in_days: int = Field(default=90, ge=1, le=366)


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str = Field(description="The token's first characters, to recognise it.")
    scopes: list[Scope]
    created_at: UtcDatetime
    expires_at: UtcDatetime
    last_used_at: UtcDatetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="The bearer token. Shown once: it is stored hashed.")


class TokenList(RootModel[list[TokenOut]]):
    pass


class SessionOut(BaseModel):
    user_id: int
    email: str
    role: str
    csrf_token: str = Field(description="Send it in X-CSRF-Token with unsafe methods.")
