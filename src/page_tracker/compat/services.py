"""Busuanzi and Plausible hits through the one hit path.

Both endpoints turn what they parsed into :class:`~page_tracker.ingest.hits.RawHit`\\ s
and hand them to :func:`page_tracker.ingest.record.record` (ingest, then the app's
hit sink); Busuanzi reads the counters back through the app's
:class:`~page_tracker.stats.counters.CounterReader`. So they count exactly like
page-tracker's own endpoints and never write tables themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from page_tracker.compat import busuanzi
from page_tracker.compat.plausible import Event
from page_tracker.db import DATABASE, LazySession, lazy_session
from page_tracker.errors import Conflict, ValidationFailed
from page_tracker.ingest.hits import RawHit
from page_tracker.ingest.parsing import client_ip, wants_no_tracking
from page_tracker.ingest.record import record, record_in
from page_tracker.ingest.verdict import UNKNOWN_SITE
from page_tracker.settings import SETTINGS
from page_tracker.sites.services import (
    SITES,
    SiteDirectory,
    SiteInfo,
    create_site,
    find_site_for_host,
)
from page_tracker.stats.counters import COUNTERS, CounterReader, Counters, CountsWithHits

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Reader:
    """Who sent the request: what every hit needs besides the page."""

    ip: str
    user_agent: str
    dnt: bool

    @classmethod
    def of(cls, environ: Mapping[str, Any], trusted_proxies: int | None = None) -> Reader:
        """The reader of a request (its WSGI environ), as every hit route reads it
        (``trusted_proxies``: the app's setting; without it, the current app's)."""
        return cls(
            ip=client_ip(environ, trusted_proxies),
            user_agent=str(environ.get("HTTP_USER_AGENT", "")),
            dnt=wants_no_tracking(environ),
        )


@dataclass(frozen=True, slots=True)
class BusuanziOutcome:
    """What a Busuanzi request did. ``counters`` is ``None`` for an unknown site and for
    a site that does not publish its counters (``public`` is then ``False``: the hit
    still counts, the answer reveals nothing, like ``/api/v1/counters``)."""

    reason: str
    accepted: bool
    counters: Counters | None
    public: bool = True


def _directory() -> SiteDirectory:
    return SITES.get()


@dataclass(frozen=True, slots=True)
class BusuanziCounting:
    """What a Busuanzi request uses of its app, looked up once per app (the lean route
    runs without an app context, like the hit routes)."""

    app: Flask
    sessions: sessionmaker[Session]
    sites: SiteDirectory
    counters: CounterReader
    reads_after_hit: bool  # the sink's batch call returned the counters (Redis mode)
    autocreate: tuple[str, ...]

    @classmethod
    def of(cls, app: Flask) -> BusuanziCounting:
        counters = COUNTERS.get(app)
        return cls(
            app=app,
            sessions=DATABASE.get(app).sessions.session_factory,
            sites=SITES.get(app),
            counters=counters,
            reads_after_hit=isinstance(counters, CountsWithHits),
            autocreate=tuple(SETTINGS.get(app).busuanzi_autocreate_patterns),
        )


def _autocreate(session: Session, host: str, directory: SiteDirectory) -> SiteInfo | None:
    """Create the site for ``host`` (committed); the loser of a race of first hits
    finds the winner's site."""
    try:
        # Public: the operator allowed the host pattern for Busuanzi, whose whole point
        # is showing the numbers.
        site = create_site(session, host, public_counters=True)
        session.commit()
    except Conflict:  # create_site rolled back: a concurrent first hit created it
        found = find_site_for_host(session, host)
        return SiteInfo.of(found) if found is not None else None
    except ValidationFailed:  # not a DNS name (an IP address...): no site for it
        return None
    log.info("Created site %s for the Busuanzi host %s", site.id, host)
    directory.clear()  # this worker cached the miss
    return SiteInfo.of(site)


def busuanzi_site(session: Session, host: str, counting: BusuanziCounting) -> SiteInfo | None:
    """The site counting ``host`` (cached lookup); created on first sight when ``host``
    matches one of the operator's ``BUSUANZI_AUTOCREATE_HOSTS`` patterns."""
    site = counting.sites.by_host(session, host)
    if site is None and busuanzi.host_matches(host, counting.autocreate):
        with counting.app.app_context():  # a new site's id joins the app's known sites
            return _autocreate(session, host, counting.sites)
    return site


def count_busuanzi(
    page: busuanzi.Page, reader: Reader, visitor_token: str, counting: BusuanziCounting
) -> BusuanziOutcome:
    """Count one Busuanzi page view and read the counters back (including this hit,
    flushed or not) when the site publishes them. A rejected hit (bot, DNT...) is not
    counted but still gets the numbers. Raises when the site lookup or the counter read
    fails; a failing sink only makes the reason ``store-unavailable``. Needs no app
    context."""
    # One lazy session for the site lookup and the hit's verdict, connected only on a
    # cache miss and closed before the hit waits for its group commit: the request
    # holds no pooled connection while its hit is written and its counters are read.
    session = LazySession(counting.sessions)
    try:
        site = busuanzi_site(cast(Session, session), page.host, counting)
        if site is None:
            return BusuanziOutcome(reason=UNKNOWN_SITE, accepted=False, counters=None)
        raw = busuanzi_hit(site.id, page, reader, visitor_token)
        verdict = record_in(counting.app, raw, cast(Session, session), release_session=True)
    finally:
        session.close()
    if not site.public_counters:
        return BusuanziOutcome(verdict.reason, verdict.accepted, counters=None, public=False)
    counter_reader = counting.counters
    if verdict.accepted and counting.reads_after_hit:
        # counted and read in one script call (Redis mode)
        counters = cast(CountsWithHits, counter_reader).read_after_hit(site.id, page.path)
    else:
        counters = counter_reader.read(site.id, page.path)
    return BusuanziOutcome(reason=verdict.reason, accepted=verdict.accepted, counters=counters)


def busuanzi_hit(site_id: str, page: busuanzi.Page, reader: Reader, token: str) -> RawHit:
    """The hit a Busuanzi request makes; ``token`` is the reader's ``busuanziId``."""
    return RawHit(
        site_id=site_id,
        url=page.url,
        host=page.host,
        path=page.path,
        referrer=None,  # the request's Referer is the page itself, not where it came from
        user_agent=reader.user_agent,
        ip=reader.ip,
        dnt=reader.dnt,
        source="busuanzi",
        visitor_token=token,
    )


def record_plausible(event: Event, reader: Reader) -> list[str]:
    """Count a Plausible event once for each site its ``d`` names; returns the verdict
    reason per domain, in order (``unknown-site`` for a domain no site counts)."""
    with lazy_session() as session:
        sites = [_directory().by_host(session, domain) for domain in event.domains]
    reasons: list[str] = []
    for site in sites:
        if site is None:
            reasons.append(UNKNOWN_SITE)
            continue
        raw = RawHit(
            site_id=site.id,
            url=event.url,
            host=event.host,
            path=event.path,
            referrer=event.referrer,
            screen=event.screen,
            event=event.event,
            user_agent=reader.user_agent,
            ip=reader.ip,
            dnt=reader.dnt,
            source="plausible",
        )
        reasons.append(record(raw).reason)
    return reasons
