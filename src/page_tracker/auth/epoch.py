"""The access epoch: one value in the database that changes, in the same transaction,
with every change of who may read what (users, tokens, memberships, sites).

Cached answers about access (:mod:`page_tracker.auth.access`) are keyed by the epoch
they were read in. A request reads the current epoch (one row by key) and looks up only
entries of that epoch, so an entry read before a change is never used after it: a
revoked token, a removed member or a deleted user is refused by the next request, in
every process and in both modes, without reaching the other processes' caches.

Why the database and not Redis: the epoch changes in the transaction that makes the
change, so no reader can see the new epoch with the old rows (or the new rows with the
old epoch for longer than the transaction takes); the CLI, another worker or an import
changes it the same way. In Redis mode readers find it mirrored in Redis
(:mod:`page_tracker.auth.epoch_mirror`), which each change marks before it commits.
Each new value is random, not a counter: a database put back from a backup comes back
with the epoch of that backup's rows, never with a value whose cached entries describe
other rows.

Nobody has to remember to change it: a flush that adds, changes or deletes a
:class:`User`, :class:`ApiToken` (but for its ``last_used_at``), :class:`SiteMember` or
:class:`Site`, and a bulk ``UPDATE``/``DELETE`` of their tables, changes it
(:func:`watch`).
"""

from __future__ import annotations

import secrets
from typing import Any, Final

from sqlalchemy import BigInteger, Integer, event, insert, inspect, select, update
from sqlalchemy.orm import InstanceState, Mapped, ORMExecuteState, Session, mapped_column

from page_tracker.auth import epoch_mirror
from page_tracker.auth.models import ApiToken
from page_tracker.db import Base, scalar_now
from page_tracker.sites.models import Site
from page_tracker.users.models import SiteMember, User

ROW: Final = 1
WATCHED: Final = (User, ApiToken, SiteMember, Site)
_TABLES: Final = frozenset(model.__tablename__ for model in WATCHED)
# A token's use is written down hourly (auth.tokens.USE_RECORDED_EVERY): no access change.
_IGNORED: Final = {ApiToken.__tablename__: frozenset({"last_used_at"})}


class AccessEpoch(Base):
    """The one row (``id`` 1) holding the current epoch."""

    __tablename__ = "access_epoch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(BigInteger, nullable=False)


def new_value() -> int:
    return secrets.randbits(62)


# Built once: building it took a third of the CPU of the read (statements are immutable).
_CURRENT: Final = select(AccessEpoch.value).where(AccessEpoch.id == ROW)


def current(session: Session) -> int | None:
    """The epoch now (``None``: no row, nothing may be cached); in one round trip on
    PostgreSQL too (:func:`~page_tracker.db.scalar_now`)."""
    value = scalar_now(session, _CURRENT)
    return None if value is None else int(value)


def advance(session: Session) -> None:
    """Give the epoch a new value in the session's transaction (making the row when a
    database emptied of every row lost it: until then nothing is cached). In Redis mode
    the mirror is marked first (raises :class:`~page_tracker.errors.ServiceUnavailable`
    when Redis fails: the change must not commit unseen by the mirror's readers)."""
    epoch_mirror.mark(session)
    changed = session.execute(
        update(AccessEpoch).where(AccessEpoch.id == ROW).values(value=new_value()),
        execution_options={"synchronize_session": False},
    )
    if not getattr(changed, "rowcount", 1):
        session.execute(insert(AccessEpoch).values(id=ROW, value=new_value()))


def _changes_access(instance: object, deleted: bool) -> bool:
    if not isinstance(instance, WATCHED):
        return False
    if deleted:
        return True
    state: InstanceState[Any] = inspect(instance)
    if state.transient or state.pending:
        return True  # a new row
    ignored = _IGNORED.get(type(instance).__tablename__, frozenset())
    return any(
        attribute.history.has_changes() for attribute in state.attrs if attribute.key not in ignored
    )


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    if any(_changes_access(obj, deleted=True) for obj in session.deleted) or any(
        _changes_access(obj, deleted=False) for obj in (*session.new, *session.dirty)
    ):
        advance(session)


def _bulk(state: ORMExecuteState) -> None:
    """A bulk UPDATE or DELETE of a watched table (``delete(SiteMember).where(...)``)."""
    if not (state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in _TABLES:
        advance(state.session)


def watch() -> None:
    """Have every session change the epoch with access (idempotent)."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "do_orm_execute", _bulk)
