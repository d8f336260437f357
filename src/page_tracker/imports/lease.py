"""Leases of running imports: which runner works on an import (or an import job), and
until when it is presumed alive.

A runner that takes an ``imports`` row or an ``import_jobs`` row writes a random owner
token (``lease_owner``) and ``lease_until`` = now + the lease, and renews it
(``heartbeat_at``) every :func:`renew_every` seconds while it works and in the
transaction of every chunk it commits. A row that is ``running`` with a lease run out
(or none: written before leases existed) is *abandoned*: its runner died (a web process
stopped in the middle of an embedded-mode import, a killed worker or CLI). Abandoned
rows may be taken over (resumed) or deleted; live ones are refused (409).

Fencing: every write of a runner is conditional on its token (``UPDATE ... WHERE
lease_owner = :me AND state = 'running'``), and taking a row over or deleting it
first changes the token or the state with one conditional ``UPDATE`` (which waits for
the runner's open transaction). A runner that only stalled past its lease finds its
row taken when it wakes and stops (:class:`LeaseLost`) without writing a count.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, update
from sqlalchemy.orm import Session

from page_tracker.imports.errors import LeaseLost
from page_tracker.imports.models import RUNNING, Import, ImportJob

LEASE_SECONDS = 60.0  # the default of IMPORT_LEASE_SECONDS
RENEW_EVERY = 1.0  # seconds between two heartbeats, at most (progress is written too)

Leased = type[Import] | type[ImportJob]


def new_owner() -> str:
    return secrets.token_hex(16)


def now() -> datetime:
    return datetime.now(UTC)


def renew_every(lease_seconds: float) -> float:
    """Heartbeats come at least four times per lease."""
    return min(RENEW_EVERY, lease_seconds / 4)


def held(owner: str, lease_seconds: float, at: datetime | None = None) -> dict[str, Any]:
    """The columns of a lease held by ``owner`` from ``at`` (now)."""
    at = at or now()
    return {
        "lease_owner": owner,
        "heartbeat_at": at,
        "lease_until": at + timedelta(seconds=lease_seconds),
    }


def _state(model: Leased) -> Any:
    return Import.status if model is Import else ImportJob.state


def abandoned_clause(model: Leased, at: datetime) -> ColumnElement[bool]:
    """SQL: the row is running and nobody holds a live lease on it."""
    return and_(_state(model) == RUNNING, or_(model.lease_until.is_(None), model.lease_until < at))


def renew(
    session: Session,
    model: Leased,
    row_id: int,
    owner: str,
    lease_seconds: float,
    **values: Any,
) -> None:
    """Extend ``owner``'s lease on a running row (and write ``values`` with it) in the
    caller's transaction; raises :class:`LeaseLost` when the row is no longer its own."""
    renewed = session.execute(
        update(model)
        .where(model.id == row_id, model.lease_owner == owner, _state(model) == RUNNING)
        .values(**held(owner, lease_seconds), **values)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if not renewed:
        raise LeaseLost(f"import {row_id} was taken over or deleted while this run stalled")


def _utc(moment: datetime) -> datetime:
    # SQLite and MariaDB hand back naive datetimes for what was written in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def is_abandoned(state: str, lease_until: datetime | None, at: datetime | None = None) -> bool:
    """A running row whose lease ran out (or that never had one)."""
    if state != RUNNING:
        return False
    return lease_until is None or _utc(lease_until) < (at or now())


def expires(lease_until: datetime | None) -> str:
    """How a refusal names the end of a live lease."""
    return f"{_utc(lease_until):%H:%M:%S} UTC" if lease_until else "now"
