"""Busuanzi and Plausible hits through the one ingest pipeline.

Both endpoints turn what they parsed into :class:`~page_tracker.tracking.hits.RawHit`\\ s,
let :func:`page_tracker.tracking.ingest.process` judge them, hand accepted views to the
app's :class:`~page_tracker.tracking.sinks.HitSink` and (Busuanzi) read the counters back
through the app's :class:`~page_tracker.tracking.counters.CounterReader`, so they count
exactly like page-tracker's own endpoints and never write tables themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from page_tracker.compat import busuanzi
from page_tracker.compat.plausible import Event
from page_tracker.settings import Settings
from page_tracker.sites.models import Site
from page_tracker.sites.services import create_site, find_site_for_host
from page_tracker.tracking import ingest
from page_tracker.tracking.counters import CounterReader, Counters
from page_tracker.tracking.hits import RawHit
from page_tracker.tracking.sinks import HitSink

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Reader:
    """Who sent the request: what every hit needs besides the page."""

    ip: str
    user_agent: str
    dnt: bool


@dataclass(frozen=True, slots=True)
class BusuanziOutcome:
    """What a Busuanzi request did: ``counters`` is ``None`` for an unknown site."""

    reason: str
    counters: Counters | None
    accepted: bool


def busuanzi_site(session: Session, host: str, autocreate: Iterable[str]) -> Site | None:
    """The site counting ``host``; created on first sight when ``host`` matches one of the
    operator's ``BUSUANZI_AUTOCREATE_HOSTS`` patterns. Concurrent first hits are safe:
    the loser of the insert race finds the winner's site."""
    site = find_site_for_host(session, host)
    if site is not None or not busuanzi.host_matches(host, autocreate):
        return site
    try:
        site = create_site(session, host)
        session.commit()
    except IntegrityError:
        session.rollback()
        return find_site_for_host(session, host)
    log.info("Created site %s for Busuanzi host %s", site.id, host)
    return site


def count_busuanzi(
    session: Session,
    settings: Settings,
    sink: HitSink,
    counters: CounterReader,
    page: busuanzi.Page,
    reader: Reader,
    visitor_token: str,
    now: datetime | None = None,
) -> BusuanziOutcome:
    """Count one Busuanzi page view and read the page's counters back (including the
    hit just counted, flushed or not). A rejected hit (bot, DNT...) is not counted but
    still gets the counters."""
    site = busuanzi_site(session, page.host, settings.busuanzi_autocreate_patterns)
    if site is None:
        return BusuanziOutcome(reason="unknown-site", counters=None, accepted=False)
    raw = RawHit(
        site_id=site.id,
        host=page.host,
        url=page.url,
        path=page.path,
        referrer=None,  # the request's Referer is the page itself, not where it came from
        title=None,
        screen=None,
        event=None,
        user_agent=reader.user_agent,
        ip=reader.ip,
        dnt=reader.dnt,
        source="busuanzi",
        visitor_token=visitor_token,
    )
    verdict = ingest.process(raw, session, settings, now or datetime.now(UTC))
    if verdict.accepted and verdict.view is not None:
        sink.submit([verdict.view])
    return BusuanziOutcome(
        reason=verdict.reason,
        counters=counters.read(site.id, page.path),
        accepted=verdict.accepted,
    )


def record_plausible(
    session: Session,
    settings: Settings,
    sink: HitSink,
    event: Event,
    reader: Reader,
    now: datetime | None = None,
) -> list[str]:
    """Count a Plausible event once for each site its ``d`` names; returns the verdict
    reason per domain, in order (``unknown-site`` for a domain no site counts)."""
    now = now or datetime.now(UTC)
    reasons: list[str] = []
    accepted = []
    for domain in event.domains:
        site = find_site_for_host(session, domain)
        if site is None:
            reasons.append("unknown-site")
            continue
        raw = RawHit(
            site_id=site.id,
            host=event.host,
            url=event.url,
            path=event.path,
            referrer=event.referrer,
            title=None,
            screen=event.screen,
            event=event.event,
            user_agent=reader.user_agent,
            ip=reader.ip,
            dnt=reader.dnt,
            source="plausible",
            visitor_token=None,
        )
        verdict = ingest.process(raw, session, settings, now)
        reasons.append(verdict.reason)
        if verdict.accepted and verdict.view is not None:
            accepted.append(verdict.view)
    if accepted:
        sink.submit(accepted)
    return reasons
