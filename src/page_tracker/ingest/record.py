"""``record()``: the whole hit path for an endpoint - judge the hit, store it if accepted.

Endpoints (ours and the compat ones) call this and answer the browser whatever happens:
a store failure is logged and counted (``store-unavailable``), never raised; a hit the
store refuses for its own data is logged and counted as ``rejected``. Log lines carry the
request id.
"""

from __future__ import annotations

import logging
import time
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
        verdict = process(
            raw, session, SETTINGS.get(app), now, sites=SITES.find(app), salts=SALTS.find(app)
        )
        if release_session:
            session.close()
        if verdict.view is not None:
            limiter = LIMITER.find(app)
            if limiter is not None and not limiter.allow(raw.ip, time.time()):
                metrics.count(RATE_LIMITED)
                return Verdict.reject(RATE_LIMITED, verdict.site)
            SINK.get(app).submit([verdict.view])
    except ItemRefused as error:
        # This hit's own data was refused; its batch's other hits were written.
        metrics.count(REJECTED)
        log.error("hit refused by the store (%s): %s", raw.source, str(error).splitlines()[0])
        return Verdict.reject(REJECTED)
    except (SQLAlchemyError, RedisError, StoreError, OSError) as error:
        metrics.count(STORE_UNAVAILABLE)
        if is_pool_timeout(error):
            metrics.count(POOL_EXHAUSTED)
        log.error("hit not stored (%s): %s", raw.source, str(error).splitlines()[0])
        return Verdict.reject(STORE_UNAVAILABLE)
    metrics.count(verdict.reason)
    return verdict
