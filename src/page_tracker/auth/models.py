"""API tokens (stored hashed) and the audit log."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from page_tracker.db import Base

TOKEN_HASH_LENGTH = 64  # sha256, hex


def _now() -> datetime:
    return datetime.now(UTC)


class ApiToken(Base):
    """A bearer token. Only its SHA-256 is kept (a token is 256 random bits, so a fast
    hash is enough: there is nothing to guess); ``prefix`` (``pt_`` and the next 6
    characters) lets its owner recognise it in a list. Deleted with its user."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    prefix: Mapped[str] = mapped_column(String(16), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(TOKEN_HASH_LENGTH), nullable=False, unique=True)
    scopes: Mapped[str] = mapped_column(String(32), nullable=False)  # "read,write"
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=_now
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AuditEvent(Base):
    """One security-relevant event: a sign-in (good or failed), a token created, used or
    revoked, a session ended. ``user_id`` is kept without a foreign key so the trail
    outlives the account; ``address`` is a keyed hash, never the address itself."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=_now, index=True
    )
    event: Mapped[str] = mapped_column(String(32), nullable=False)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    token_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    address: Mapped[str] = mapped_column(String(16), nullable=False, default="")
