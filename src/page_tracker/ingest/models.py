"""The daily salts of visitor hashes (embedded mode; Redis mode keeps them in Redis)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from page_tracker.db import Base


class Salt(Base):
    """The secret salt of one UTC day. Only today's row exists: rotation deletes the rest."""

    __tablename__ = "tracking_salts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    salt: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
