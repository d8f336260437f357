"""Server-side hits: what a site owner's backend sends on behalf of its readers
(``POST /api/v1/sites/{id}/hits``, wired in :mod:`page_tracker.api.hit_views`).

A backend knows the reader's address, User-Agent and the moment of the view, so a
:class:`ServerHit` carries them instead of taking them from the request. Each one then
goes the way of a browser's hit (:func:`~page_tracker.ingest.record.record_batch`, hence
:func:`~page_tracker.ingest.verdict.process`): the same cleaning, verdicts, enrichment,
visitor hash and store; its ``url`` must be on one of the site's allowed hosts.

Two checks come first, both about the moment. A view's visitor hash is keyed with the
salt of the view's own day, and only today's (UTC) salt exists: the salt of a past day is
destroyed (PRODUCT.md §5), and a new one for that day would make each of its readers a
second visitor. So a hit is counted only on the current UTC day:

- ``timestamp-too-old``: before today's midnight (UTC);
- ``timestamp-in-future``: later than now plus :data:`CLOCK_SKEW`; a timestamp within
  the skew (the backend's clock runs a little ahead) counts as now.

An ``ip`` that is no IPv4/IPv6 address is ``malformed``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Final

from flask import Flask
from sqlalchemy.orm import Session

from page_tracker.ingest.hits import RawHit
from page_tracker.ingest.record import record_batch
from page_tracker.ingest.verdict import MALFORMED, Verdict
from page_tracker.metrics import METRICS

TOO_OLD: Final = "timestamp-too-old"
IN_FUTURE: Final = "timestamp-in-future"
CLOCK_SKEW = timedelta(minutes=5)
MAX_HITS = 1000


@dataclass(frozen=True, slots=True)
class ServerHit:
    """One reader's page view as a backend reports it; ``timestamp`` ``None``: now."""

    url: str
    ip: str
    user_agent: str
    timestamp: datetime | None = None
    referrer: str | None = None
    title: str | None = None
    screen: str | None = None
    event: str | None = None
    dnt: bool = False


def moment_of(hit: ServerHit, now: datetime) -> datetime | Verdict:
    """When ``hit`` counts (an aware UTC datetime), or the verdict refusing it."""
    if hit.timestamp is None:
        return now
    moment = hit.timestamp.astimezone(UTC)
    if moment > now + CLOCK_SKEW:
        return Verdict.reject(
            IN_FUTURE, detail=f"timestamp is more than {CLOCK_SKEW} ahead of the server's clock"
        )
    if moment < datetime.combine(now.date(), time(), UTC):
        return Verdict.reject(
            TOO_OLD, detail="timestamp is before today (UTC): only today's views can be counted"
        )
    return min(moment, now)


def _address(ip: str) -> str | None:
    try:
        return str(ipaddress.ip_address(ip.strip()))
    except ValueError:
        return None


def record_server_hits(
    app: Flask, site_id: str, hits: Sequence[ServerHit], session: Session, now: datetime
) -> list[Verdict]:
    """Judge and store ``hits`` of site ``site_id``: the verdict of each, in order.
    ``session`` reads sites on a cache miss and is closed before the views are stored."""
    verdicts: list[Verdict | None] = []
    counted: list[tuple[RawHit, datetime]] = []
    for hit in hits:
        moment = moment_of(hit, now)
        address = _address(hit.ip)
        if isinstance(moment, Verdict):
            verdicts.append(moment)
        elif address is None:
            verdicts.append(Verdict.reject(MALFORMED, detail="ip must be an IPv4 or IPv6 address"))
        else:
            verdicts.append(None)
            raw = RawHit(
                site_id=site_id,
                url=hit.url,
                user_agent=hit.user_agent,
                ip=address,
                referrer=hit.referrer or None,
                title=hit.title,
                screen=hit.screen,
                event=hit.event,
                dnt=hit.dnt,
                source="api",
            )
            counted.append((raw, moment))
    metrics = METRICS.get(app)
    for verdict in verdicts:
        if verdict is not None:
            metrics.count(verdict.reason)
    stored = iter(record_batch(app, counted, session))
    return [verdict if verdict is not None else next(stored) for verdict in verdicts]
