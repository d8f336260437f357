"""The audit log: who signed in, failed to, created, used or revoked a token.

Events are added to the caller's session and committed with the change they describe
(a failed sign-in commits its own event: nothing else is written then).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from flask import has_request_context, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from page_tracker.auth.models import AuditEvent
from page_tracker.remote_address import address_key


class Event(StrEnum):
    # Event names, not secrets (bandit reads "token" as a password).
    SIGN_IN = "sign-in"
    SIGN_IN_FAILED = "sign-in-failed"
    SIGN_OUT = "sign-out"
    TOKEN_CREATED = "token-created"  # noqa: S105  # nosec B105
    TOKEN_USED = "token-used"  # noqa: S105  # nosec B105
    TOKEN_REVOKED = "token-revoked"  # noqa: S105  # nosec B105


def record(
    session: Session, event: Event, *, user_id: int | None = None, token_id: int | None = None
) -> AuditEvent:
    """Add an event for the current request's client (keyed address hash)."""
    entry = AuditEvent(
        event=event.value,
        user_id=user_id,
        token_id=token_id,
        address=address_key(request.environ) if has_request_context() else "",
    )
    session.add(entry)
    return entry


def events(
    session: Session, *, user_id: int | None = None, limit: int = 100
) -> Sequence[AuditEvent]:
    """The newest events first, of one user or of everybody."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if user_id is not None:
        query = query.where(AuditEvent.user_id == user_id)
    return session.scalars(query).all()
