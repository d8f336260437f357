"""Imports, their ledger (what each import added to which rollup row) and the jobs of the
import endpoint.

``imports`` has one row per imported file (per site and content hash, so the same file
is never counted twice). ``import_chunks`` is its ledger: what each committed chunk
added to which rollup row, so deleting an import subtracts exactly what it added and
nothing a reader counted live. ``import_jobs`` has one row per file uploaded to
``POST /api/v1/sites/{id}/imports``: its state while queued and running, what it did or
why it failed; a job that ran links to the ``imports`` row it made.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Index,
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
    # The lease of the runner working on it (:mod:`page_tracker.imports.lease`): a
    # running row whose lease ran out is abandoned (its runner died).
    lease_owner: Mapped[str | None] = mapped_column(String(32), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ImportChunk(Base):
    """What one committed chunk of an import added to the rollups (see
    :mod:`page_tracker.imports.ledger`)."""

    __tablename__ = "import_chunks"

    import_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chunk: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # rows done before it
    counts: Mapped[bytes] = mapped_column(
        LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb"), nullable=False
    )


# The states of an import job, in order: waiting for a worker, importing, then one of
# the two ends (the uploaded file is removed at either end).
QUEUED = "queued"
FAILED = "failed"
JOB_STATES = (QUEUED, RUNNING, DONE, FAILED)


class ImportJob(Base):
    """One file uploaded to the import endpoint, and what became of it."""

    __tablename__ = "import_jobs"
    __table_args__ = (Index("ix_import_jobs_site_id", "site_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[str] = mapped_column(String(12), nullable=False)
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)  # the uploaded file's name
    state: Mapped[str] = mapped_column(String(8), nullable=False, default=QUEUED)
    # What the job was asked for: replace, skip_bad_rows, site_pv, site_uv (Busuanzi).
    options: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    upload: Mapped[str | None] = mapped_column(String(255), nullable=True)  # None once removed
    size: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    bytes_read: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    rows: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    rows_skipped: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    pageviews: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    # The problems: the one that stopped a failed job, or the rows skip_bad_rows left out.
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
    import_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # imports.id
    replaced: Mapped[int | None] = mapped_column(Integer, nullable=True)  # imports.id
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)  # users.id
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=_now
    )
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # The lease of the runner working on it (:mod:`page_tracker.imports.lease`): a
    # running row whose lease ran out is abandoned (its runner died).
    lease_owner: Mapped[str | None] = mapped_column(String(32), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
