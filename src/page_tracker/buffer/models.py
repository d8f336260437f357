"""The ids of the batches Redis mode's flush has counted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from page_tracker.db import Base


class FlushedBatch(Base):
    """A batch of page views already counted (Redis mode's flush, or the database
    fallback of its sink). Written in the same transaction as the batch's rollups, so a
    batch flushed again after a crash is recognised and not counted twice."""

    __tablename__ = "tracking_flushed_batches"

    batch_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    flushed_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, index=True)
