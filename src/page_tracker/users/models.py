"""Users and who is a member of which site."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from page_tracker.db import Base
from page_tracker.sites.models import SITE_ID_LENGTH

MAX_EMAIL_LENGTH = 254  # RFC 5321's longest path
MAX_NAME_LENGTH = 100


class Role(StrEnum):
    ADMIN = "admin"
    USER = "user"


class MemberRole(StrEnum):
    """A member's role on one site: owners change it and its members, viewers read."""

    OWNER = "owner"
    VIEWER = "viewer"


def _now() -> datetime:
    return datetime.now(UTC)


class User(Base):
    """An account. ``password_hash`` is an argon2id hash (:mod:`.passwords`); it never
    leaves this package in an answer or a log line."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(MAX_EMAIL_LENGTH), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(MAX_NAME_LENGTH), nullable=False, default="")
    role: Mapped[str] = mapped_column(String(10), nullable=False, default=Role.USER.value)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=_now
    )

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN.value

    def __repr__(self) -> str:  # no hash in any repr that might reach a log
        return f"User(id={self.id!r}, email={self.email!r}, role={self.role!r})"


class SiteMember(Base):
    """A user's role on a site. Deleting the site or the user deletes the membership."""

    __tablename__ = "site_members"

    site_id: Mapped[str] = mapped_column(
        String(SITE_ID_LENGTH), ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(10), nullable=False)
