"""``record()``: the whole hit path for an endpoint - judge the hit, store it if accepted.

Endpoints (ours and the compat ones) call this and answer the browser whatever happens:
a store failure is logged and counted (``store-unavailable``), never raised; a hit the
store refuses for its own data is logged and counted as ``rejected``. Log lines carry the
request id.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import datetime
from typing import cast

from flask import Flask, current_app
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from page_tracker.buffer.batching import ItemRefused
from page_tracker.buffer.sinks import SINK
from page_tracker.db import is_pool_timeout, lazy_session
from page_tracker.errors import StoreError
from page_tracker.ingest.hits import RawHit
from page_tracker.ingest.rate_limit import LIMITER, RATE_LIMITED
from page_tracker.ingest.salts import SALTS
from page_tracker.ingest.verdict import REJECTED, STORE_UNAVAILABLE, Verdict, process
from page_tracker.metrics import METRICS, POOL_EXHAUSTED
from page_tracker.settings import SETTINGS
from page_tracker.sites.services import SITES

log = logging.getLogger(__name__)

# What a hit may meet on its way to the store: the verdict is then a rejection, never an
# error answer (``ItemRefused``: its own data; the rest: the store, or a BatchTimeout).
STORE_FAILURES = (ItemRefused, SQLAlchemyError, RedisError, StoreError, OSError)


def record(raw: RawHit, now: datetime | None = None) -> Verdict:
    """Process ``raw`` and submit the page view when accepted.

    Returns the verdict; when the store fails the verdict is a rejection with reason
    ``store-unavailable`` (the failure is logged with the request id and counted).
    """
    # Not the request's session: this one is closed before the view waits for its group
    # commit, so the request holds no pooled connection while the writer needs one.
    session = lazy_session()
    try:
        return record_in(current_app, raw, cast(Session, session), now, release_session=True)
    finally:
        session.close()


def record_in(
    app: Flask,
    raw: RawHit,
    session: Session,
    now: datetime | None = None,
    *,
    release_session: bool = False,
) -> Verdict:
    """:func:`record` for an explicit app and session, without an app context (the
    ingest routes, :mod:`page_tracker.ingest.routes`). ``session`` is used only
    when a site is not in the app's site cache; with ``release_session`` it is closed
    before the view is submitted, so a request waiting for its group commit holds no
    pooled connection (the writer needs one)."""
    metrics = METRICS.get(app)
    try:
        verdict = _judge(app, raw, session, now)
        if release_session:
            session.close()
        if verdict.view is not None:
            SINK.get(app).submit([verdict.view])
    except STORE_FAILURES as error:
        return _lost(app, raw, error)
    metrics.count(verdict.reason)
    return verdict


def record_batch(
    app: Flask, hits: Sequence[tuple[RawHit, datetime]], session: Session
) -> list[Verdict]:
    """:func:`record_in` for many hits at once, each at its own moment (server-side
    ingest): the verdict of each, in order. Every hit is judged alone, then the accepted
    views are submitted together, each as an item of its own
    (:meth:`~page_tracker.buffer.sinks.BatchingSink.submit_each`): one bad hit never
    costs another, and a hit is ``accepted`` only once it is durable. ``session`` is
    closed before the views are submitted."""
    verdicts: list[Verdict] = []
    for raw, moment in hits:
        try:
            verdicts.append(_judge(app, raw, session, moment))
        except STORE_FAILURES as error:
            verdicts.append(_lost(app, raw, error))
    session.close()
    waiting = [n for n, verdict in enumerate(verdicts) if verdict.view is not None]
    views = [view for view in (verdicts[n].view for n in waiting) if view is not None]
    errors: list[BaseException | None]
    try:
        errors = SINK.get(app).submit_each(views)
    except STORE_FAILURES as error:
        errors = [error] * len(views)
    for n, failure in zip(waiting, errors, strict=True):
        if failure is not None:
            verdicts[n] = _lost(app, hits[n][0], failure)
    metrics = METRICS.get(app)
    for verdict in verdicts:
        if verdict.reason not in {REJECTED, STORE_UNAVAILABLE}:  # _lost() counted those
            metrics.count(verdict.reason)
    return verdicts


def _judge(app: Flask, raw: RawHit, session: Session, now: datetime | None) -> Verdict:
    """The verdict on ``raw`` before it is stored: :func:`process`, then the
    per-address rate limit of the accepted hits."""
    verdict = process(
        raw, session, SETTINGS.get(app), now, sites=SITES.find(app), salts=SALTS.find(app)
    )
    if verdict.view is not None:
        limiter = LIMITER.find(app)
        if limiter is not None and not limiter.allow(raw.ip, time.time()):
            return Verdict.reject(RATE_LIMITED, verdict.site)
    return verdict


def _lost(app: Flask, raw: RawHit, error: BaseException) -> Verdict:
    """The verdict on a hit the store did not take (one of :data:`STORE_FAILURES`),
    logged and counted."""
    metrics = METRICS.get(app)
    if isinstance(error, ItemRefused):
        # This hit's own data was refused; its batch's other hits were written.
        metrics.count(REJECTED)
        log.error("hit refused by the store (%s): %s", raw.source, str(error).splitlines()[0])
        return Verdict.reject(REJECTED)
    metrics.count(STORE_UNAVAILABLE)
    if is_pool_timeout(error):
        metrics.count(POOL_EXHAUSTED)
    log.error("hit not stored (%s): %s", raw.source, str(error).splitlines()[0])
    return Verdict.reject(STORE_UNAVAILABLE)
