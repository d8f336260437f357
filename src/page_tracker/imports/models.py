"""Imports and their ledger: what each import added to which rollup row.

``imports`` has one row per imported file (per site and content hash, so the same file
is never counted twice). ``import_chunks`` is its ledger: what each committed chunk
added to which rollup row, so deleting an import subtracts exactly what it added and
nothing a reader counted live.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column

from page_tracker.db import Base

RUNNING = "running"  # chunks are being applied (or the run was interrupted: resumable)
DONE = "done"


def _now() -> datetime:
    return datetime.now(UTC)


class Import(Base):
    """One imported file of one site."""

    __tablename__ = "imports"
    __table_args__ = (UniqueConstraint("site_id", "content_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[str] = mapped_column(String(12), nullable=False)
    source: Mapped[str] = mapped_column(String(16), nullable=False)  # goatcounter, ...
    name: Mapped[str] = mapped_column(String(255), nullable=False)  # the file's name
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)  # SHA-256, hex
    status: Mapped[str] = mapped_column(String(8), nullable=False, default=RUNNING)
    # Input rows whose counts are committed: where an interrupted run resumes.
    rows_done: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    rows_imported: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    rows_skipped: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    pageviews: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    first_day: Mapped[date | None] = mapped_column(Date, nullable=True)
    last_day: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=_now
    )
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ImportChunk(Base):
    """What one committed chunk of an import added to the rollups (see
    :mod:`page_tracker.imports.ledger`)."""

    __tablename__ = "import_chunks"

    import_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chunk: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # rows done before it
    counts: Mapped[bytes] = mapped_column(
        LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb"), nullable=False
    )
