"""Running an import: chunks of counted rows into the rollups, each with its ledger.

The contract (issue 11, "semantics"):

- Imported history is added to the rollups the statistics read (:mod:`page_tracker.
  stats.tally`), hourly where the source knows times, daily otherwise; unique visitors
  are added as numbers, never as invented visitor hashes.
- Each import is an ``imports`` row (per site and content hash): the same content is
  never counted twice (:class:`AlreadyImported`; ``replace=True`` takes the earlier
  import out first), and :func:`delete_import` subtracts exactly what it added.
- Rows are applied in chunks, one transaction each, together with the chunk's ledger
  and the number of rows done. A run that was interrupted (killed, database gone)
  stays ``running`` and the next run of the same content resumes after the last
  committed chunk.
- A run holds a lease on its ``imports`` row (:mod:`page_tracker.imports.lease`),
  renewed every second and with each chunk: while it is live, the import cannot be
  resumed, replaced or deleted by anyone else (:class:`ImportRunning`, 409); once it
  ran out (the runner died) it can. A run that stops on an error gives its lease back.
- A malformed row stops the import with its file, line and column, and every chunk
  already applied is taken back out: nothing stays half-applied. With
  ``skip_bad_rows`` the row is left out, counted and reported instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Protocol

from flask import has_app_context
from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from page_tracker.db import retry_transient
from page_tracker.errors import NotFound
from page_tracker.imports import collector, lease, ledger
from page_tracker.imports.errors import AlreadyImported, BadInput, ImportRunning, NoSuchImport
from page_tracker.imports.models import DONE, RUNNING, Import
from page_tracker.imports.reading import Row
from page_tracker.sites.services import get_site
from page_tracker.stats.cached import forget_sites
from page_tracker.stats.ids import IdCache
from page_tracker.stats.tally import Tally, add_tally, subtract

log = logging.getLogger(__name__)

CHUNK_ROWS = 20_000
MAX_REPORTED_BAD_ROWS = 20
BEAT_ROWS = 256  # rows between two looks at the clock (is a heartbeat due?)
# Called in every transaction that writes a run (its start, each chunk, each
# heartbeat) with the import's id; raises to stop the run (an import job's lease lost).
Guard = Callable[[Session, int], None]


class Importer(Protocol):
    """One input in one format: its identity and its rows, counted one at a time."""

    source: str  # "goatcounter", "plausible", "busuanzi", "page-tracker"
    name: str  # what ``imports list`` shows: the file name
    content_hash: str

    def rows(self) -> Iterator[Row]:
        """The input's records, in order; raises :class:`BadInput` for a problem of the
        whole input (header, encoding, archive)."""
        ...

    def count(self, row: Row, tally: Tally) -> int:
        """Add ``row`` to ``tally`` and return the page views it adds; raises
        :class:`BadInput` (before changing ``tally``) when the row is malformed."""
        ...

    def drain(self, tally: Tally) -> None:
        """Move what ``count`` kept in its own counters into ``tally`` (before each
        chunk is written)."""
        ...

    def finish(self, tally: Tally) -> None:
        """Add what is only known at the end of the input (totals given separately)."""
        ...


@dataclass
class ImportReport:
    """What a run did."""

    import_id: int
    rows: int = 0
    pageviews: int = 0
    skipped: int = 0
    bad_rows: list[BadInput] = field(default_factory=list)
    resumed_after: int = 0
    replaced: int | None = None  # the id of the import ``replace`` took out


@dataclass
class _Chunk:
    tally: Tally = field(default_factory=Tally)
    rows: int = 0  # rows consumed (counted or skipped)
    counted: int = 0
    skipped: int = 0
    pageviews: int = 0
    first_day: date | None = None
    last_day: date | None = None


def _days(tally: Tally) -> tuple[date | None, date | None]:
    days = [day for _path, day in tally.daily] + [day for *_kv, day in tally.dimensions]
    return (min(days), max(days)) if days else (None, None)


class ImportRunner:
    """Runs imports against one database (``session_factory``), in chunks of
    ``chunk_rows`` rows; ``progress()`` is called after each row."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        chunk_rows: int = CHUNK_ROWS,
        progress: Callable[[int], None] | None = None,
        on_change: Callable[[str], None] | None = None,
        lease_seconds: float = lease.LEASE_SECONDS,
        guard: Guard | None = None,
    ) -> None:
        """``on_change(site_id)`` runs after each commit that changed a site's counts
        (default: drop the app's cached reads of the site, :func:`forget_site`);
        ``guard`` see :data:`Guard`."""
        self.session_factory = session_factory
        self.chunk_rows = chunk_rows
        self.progress = progress
        self.cache = IdCache()
        self.on_change = on_change or forget_site
        self.lease_seconds = lease_seconds
        self.guard = guard
        self.owner = lease.new_owner()
        self.next_beat = 0.0

    def run(
        self,
        site_id: str,
        importer: Importer,
        *,
        replace: bool = False,
        skip_bad_rows: bool = False,
    ) -> ImportReport:
        """Import ``importer``'s rows into ``site_id``; see the module docstring."""
        with collector.fewer_passes():
            return self._run(site_id, importer, replace=replace, skip_bad_rows=skip_bad_rows)

    def _run(
        self, site_id: str, importer: Importer, *, replace: bool, skip_bad_rows: bool
    ) -> ImportReport:
        report = self._start(site_id, importer, replace)
        done_before = report.resumed_after
        chunk = _Chunk()
        try:
            consumed = 0
            for row in importer.rows():
                consumed += 1
                if not consumed % BEAT_ROWS and time.monotonic() >= self.next_beat:
                    self._beat(report.import_id)
                if consumed <= done_before:
                    _replay(importer, row)
                    continue
                chunk.rows += 1
                try:
                    chunk.pageviews += importer.count(row, chunk.tally)
                    chunk.counted += 1
                except BadInput as bad:
                    if not skip_bad_rows:
                        raise
                    chunk.skipped += 1
                    if len(report.bad_rows) < MAX_REPORTED_BAD_ROWS:
                        report.bad_rows.append(bad)
                if self.progress is not None:
                    self.progress(1)
                if chunk.rows >= self.chunk_rows:
                    importer.drain(chunk.tally)
                    self._commit(site_id, chunk, report)
                    chunk = _Chunk()
            importer.drain(chunk.tally)
            importer.finish(chunk.tally)
            self._commit(site_id, chunk, report, finished=True)
        except BadInput:
            # Other errors (interrupted, database gone) leave the run resumable.
            self._take_out(report.import_id, site_id, delete_run=True)
            raise
        except BaseException:
            self._release(report.import_id)
            raise
        return report

    def _beat(self, import_id: int) -> None:
        """Renew the lease (and the guard's): the run is alive."""

        def work() -> None:
            with self.session_factory() as session:
                self._hold(session, import_id)
                session.commit()

        retry_transient(work)
        self.next_beat = time.monotonic() + lease.renew_every(self.lease_seconds)

    def _hold(self, session: Session, import_id: int) -> None:
        lease.renew(session, Import, import_id, self.owner, self.lease_seconds)
        if self.guard is not None:
            self.guard(session, import_id)

    def _release(self, import_id: int) -> None:
        """Give the lease back (the run stopped: it may be resumed at once); best effort."""
        try:
            with self.session_factory() as session:
                session.execute(
                    update(Import)
                    .where(Import.id == import_id, Import.lease_owner == self.owner)
                    .values(lease_until=None)
                )
                session.commit()
        except SQLAlchemyError as error:  # the lease runs out by itself
            log.warning("import %d: lease not given back: %s", import_id, error)

    def _start(self, site_id: str, importer: Importer, replace: bool) -> ImportReport:
        """The import's report: a new run, or the interrupted one of the same content
        (``replace`` takes out an earlier run, finished or not, and starts anew)."""
        replaced: int | None = None
        with self.session_factory() as session:
            if get_site(session, site_id) is None:
                raise NotFound(f"no site {site_id!r} (page-tracker sites list shows the ids)")
            earlier = session.scalars(
                select(Import).where(
                    Import.site_id == site_id, Import.content_hash == importer.content_hash
                )
            ).first()
        if earlier is not None and (earlier.status == DONE or replace):
            if not replace:
                raise AlreadyImported(
                    f"{importer.name} was already imported into {site_id} as import "
                    f"{earlier.id} on {earlier.created_at:%Y-%m-%d}; --replace imports it again"
                )
            self._take_out(earlier.id, site_id, delete_run=True)
            replaced, earlier = earlier.id, None
        self.next_beat = time.monotonic() + lease.renew_every(self.lease_seconds)
        if earlier is not None:  # an interrupted run of the same content: resume it
            self._take_over(earlier)
            return ImportReport(
                earlier.id,
                rows=earlier.rows_imported,
                pageviews=earlier.pageviews,
                skipped=earlier.rows_skipped,
                resumed_after=earlier.rows_done,
            )
        with self.session_factory() as session:
            run = Import(
                site_id=site_id,
                source=importer.source,
                name=importer.name[:255],
                content_hash=importer.content_hash,
                status=RUNNING,
                rows_done=0,
                rows_imported=0,
                rows_skipped=0,
                pageviews=0,
                **lease.held(self.owner, self.lease_seconds),
            )
            session.add(run)
            session.flush()
            if self.guard is not None:
                self.guard(session, run.id)
            session.commit()
            return ImportReport(run.id, replaced=replaced)

    def _take_over(self, earlier: Import) -> None:
        """Hold the lease of an interrupted run; :class:`ImportRunning` while its own
        runner's lease is live."""
        with self.session_factory() as session:
            taken = session.execute(
                update(Import)
                .where(Import.id == earlier.id, lease.abandoned_clause(Import, lease.now()))
                .values(**lease.held(self.owner, self.lease_seconds))
                .execution_options(synchronize_session=False)
            ).rowcount  # type: ignore[attr-defined]
            if not taken:
                raise _running(earlier)
            if self.guard is not None:
                self.guard(session, earlier.id)
            session.commit()

    def _commit(
        self, site_id: str, chunk: _Chunk, report: ImportReport, *, finished: bool = False
    ) -> None:
        first, last = _days(chunk.tally)

        def work() -> None:
            with self.session_factory() as session:
                # First: the lease (a conditional write, so it also takes the row's lock)
                self._hold(session, report.import_id)
                stored = session.get(Import, report.import_id, with_for_update=True)
                if stored is None:
                    raise NoSuchImport(f"import {report.import_id} was deleted while it ran")
                if chunk.tally:
                    applied = add_tally(session, site_id, chunk.tally, self.cache)
                    ledger.record(session, report.import_id, stored.rows_done, applied)
                stored.rows_done += chunk.rows
                stored.rows_imported += chunk.counted
                stored.rows_skipped += chunk.skipped
                stored.pageviews += chunk.pageviews
                if first is not None and last is not None:
                    stored.first_day = min(first, stored.first_day or first)
                    stored.last_day = max(last, stored.last_day or last)
                if finished:
                    stored.status = DONE
                    stored.finished_at = datetime.now(UTC)
                session.commit()

        retry_transient(work)
        self.next_beat = time.monotonic() + lease.renew_every(self.lease_seconds)
        if chunk.tally:
            self.on_change(site_id)
        report.rows += chunk.counted
        report.skipped += chunk.skipped
        report.pageviews += chunk.pageviews

    def _take_out(self, import_id: int, site_id: str, *, delete_run: bool) -> None:
        """Subtract an import's ledger (and forget the run): one that is finished,
        abandoned or this runner's own; :class:`ImportRunning` otherwise."""

        def work() -> None:
            with self.session_factory() as session:
                # First a conditional write: it waits for a chunk being committed, and a
                # stalled runner that wakes later finds its lease gone.
                taken = session.execute(
                    update(Import)
                    .where(Import.id == import_id, self._may_take(lease.now()))
                    .values(lease_owner=lease.new_owner(), lease_until=None)
                    .execution_options(synchronize_session=False)
                ).rowcount  # type: ignore[attr-defined]
                if not taken:
                    stored = session.get(Import, import_id)
                    if stored is not None:
                        raise _running(stored)
                subtract(session, site_id, ledger.load(session, import_id))
                ledger.forget(session, import_id)
                if delete_run:
                    stored = session.get(Import, import_id)
                    if stored is not None:
                        session.delete(stored)
                session.commit()

        retry_transient(work)
        self.on_change(site_id)

    def delete(self, import_id: int, site_id: str | None = None) -> Import:
        """Take an import's counts out of the rollups and forget it; returns what it was."""
        with self.session_factory() as session:
            found = session.get(Import, import_id)
            if found is None or (site_id is not None and found.site_id != site_id):
                raise NoSuchImport(
                    f"no import {import_id}" + (f" of site {site_id}" if site_id else "")
                )
            session.expunge(found)
        self._take_out(found.id, found.site_id, delete_run=True)
        return found

    def _may_take(self, at: datetime) -> ColumnElement[bool]:
        return or_(
            Import.status != RUNNING,
            Import.lease_owner == self.owner,
            lease.abandoned_clause(Import, at),
        )


def _running(run: Import) -> ImportRunning:
    return ImportRunning(
        f"import {run.id} ({run.name}) is running in another process (its lease runs until "
        f"{lease.expires(run.lease_until)}); wait for it to finish, or until it is shown "
        "abandoned to resume or delete it"
    )


def forget_site(site_id: str) -> None:
    """Drop the current app's cached reads and counter totals of the site (nothing
    outside an app): its counts changed other than by hits."""
    if has_app_context():
        forget_sites([site_id])


def _replay(importer: Importer, row: Row) -> None:
    """Count a row the interrupted run already applied into a tally that is thrown
    away: the importer's own state (sessions seen today, sums for site totals) is then
    what it was, and the resumed run counts the rest exactly as one run would."""
    discarded = Tally()
    try:
        importer.count(row, discarded)
    except BadInput:
        return  # skipped by the interrupted run (--skip-bad-rows)
    importer.drain(discarded)


def list_imports(session: Session, site_id: str | None = None) -> list[Import]:
    """Imports, oldest first; of one site when ``site_id`` is given."""
    query = select(Import).order_by(Import.id)
    if site_id is not None:
        query = query.where(Import.site_id == site_id)
    return list(session.scalars(query))


def purge_site_imports(session: Session, site_id: str) -> None:
    """Forget a deleted site's imports (its rollups are deleted by the statistics)."""
    for run in list_imports(session, site_id):
        ledger.forget(session, run.id)
        session.delete(run)
