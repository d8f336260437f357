"""``record()``: the whole hit path for an endpoint - judge the hit, store it if accepted.

Endpoints (ours and the compat ones) call this and answer the browser whatever happens:
a store failure is logged and counted (``store-unavailable``), never raised.
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask import Flask, Request, current_app
from sqlalchemy.exc import SQLAlchemyError

from page_tracker.db import get_session
from page_tracker.errors import StoreError
from page_tracker.settings import Settings
from page_tracker.tracking.counters import COUNTERS_KEY, CounterReader
from page_tracker.tracking.hits import RawHit
from page_tracker.tracking.ingest import Verdict, process
from page_tracker.tracking.metrics import METRICS_KEY, HitMetrics
from page_tracker.tracking.sinks import SINK_KEY, HitSink

log = logging.getLogger(__name__)

STORE_UNAVAILABLE = "store-unavailable"
REASON_HEADER = "X-Page-Tracker-Reason"


def _settings(app: Flask) -> Settings:
    settings: Settings = app.extensions["page_tracker.settings"]
    return settings


def get_sink() -> HitSink:
    sink: HitSink = current_app.extensions[SINK_KEY]
    return sink


def get_counters() -> CounterReader:
    reader: CounterReader = current_app.extensions[COUNTERS_KEY]
    return reader


def get_metrics() -> HitMetrics:
    metrics: HitMetrics = current_app.extensions[METRICS_KEY]
    return metrics


def record(raw: RawHit, now: datetime | None = None) -> Verdict:
    """Process ``raw`` and submit the page view when accepted.

    Returns the verdict; when the store fails the verdict is a rejection with reason
    ``store-unavailable`` (the failure is logged with the request id and counted).
    """
    metrics = get_metrics()
    try:
        verdict = process(raw, get_session(), _settings(current_app), now)
        if verdict.view is not None:
            get_sink().submit([verdict.view])
    except (SQLAlchemyError, StoreError, OSError) as error:
        metrics.count(STORE_UNAVAILABLE)
        log.error("hit not stored (%s): %s", raw.source, str(error).splitlines()[0])
        return Verdict.reject(STORE_UNAVAILABLE)
    metrics.count(verdict.reason)
    return verdict


def client_ip(request: Request) -> str:
    """The reader's address: the peer's, or with ``TRUSTED_PROXIES=N`` the N-th entry of
    ``X-Forwarded-For`` from the right (what the nearest trusted proxy saw). Entries
    further left are set by the client and could be forged."""
    hops = _settings(current_app).trusted_proxies
    if hops:
        forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.remote_addr or ""


def wants_no_tracking(request: Request) -> bool:
    """Do-Not-Track (``DNT: 1``) or Global Privacy Control (``Sec-GPC: 1``)."""
    return request.headers.get("DNT") == "1" or request.headers.get("Sec-GPC") == "1"
