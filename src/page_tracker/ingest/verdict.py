"""``process()``: decide whether a hit counts, and turn it into a :class:`PageView`.

Order of the checks (the first failing one is the reason): malformed, unknown-site,
host-not-allowed, dnt, bot. Reasons are the values of ``X-Page-Tracker-Reason``
(:data:`REASON_HEADER`); ``store-unavailable`` is the reason of an accepted hit that
could not be stored (:func:`page_tracker.ingest.record.record`), ``rejected`` that of one
the store refused for its own data while the rest of its batch was written.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Final
from urllib.parse import urlsplit

from flask import has_app_context
from sqlalchemy.orm import Session

from page_tracker.enrich import enrich, visitor_hash, visitor_hashes
from page_tracker.ingest.hits import RawHit
from page_tracker.ingest.normalise import normalise
from page_tracker.ingest.salts import SALTS, DatabaseSaltStore, SaltStore
from page_tracker.settings import Settings
from page_tracker.sites.services import SITES, SiteDirectory, SiteInfo
from page_tracker.stats.models import MAX_PATH_LENGTH, MAX_VALUE_LENGTH
from page_tracker.stats.pageview import PageView

ACCEPTED: Final = "accepted"
UNKNOWN_SITE: Final = "unknown-site"
HOST_NOT_ALLOWED: Final = "host-not-allowed"
BOT: Final = "bot"
DNT: Final = "dnt"
MALFORMED: Final = "malformed"
STORE_UNAVAILABLE: Final = "store-unavailable"
REJECTED: Final = "rejected"
HEAD_REQUEST: Final = "head"  # a HEAD request: answered as a GET, never counted
REASON_HEADER: Final = "X-Page-Tracker-Reason"

MAX_URL_LENGTH = 2048
MAX_EVENT_LENGTH = 100


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of :func:`process`: ``view`` is set exactly when ``accepted``."""

    accepted: bool
    reason: str
    view: PageView | None = None
    site: SiteInfo | None = None
    detail: str | None = None

    @classmethod
    def reject(
        cls, reason: str, site: SiteInfo | None = None, detail: str | None = None
    ) -> Verdict:
        return cls(False, reason, None, site, detail)


def lifetime_key(settings: Settings) -> bytes:
    """The key of all-time visitor hashes, derived from ``SECRET_KEY``."""
    return _lifetime_key(settings.secret_key.get_secret_value())


@lru_cache(maxsize=4)
def _lifetime_key(secret: str) -> bytes:  # once per secret, not per hit
    return hashlib.blake2b(secret.encode(), digest_size=32, person=b"pt-lifetime-v1").digest()


def _page(url: str) -> tuple[str, str] | None:
    """``(host, path)`` of an absolute http(s) URL, or ``None`` when malformed."""
    if not url or len(url) > MAX_URL_LENGTH:
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme not in {"http", "https"} or not host:
        return None
    return host.rstrip("."), (parts.path or "/")[:MAX_PATH_LENGTH]


def _defaults() -> tuple[SiteDirectory, SaltStore | None]:
    if has_app_context():
        return SITES.find() or SiteDirectory(ttl=0), SALTS.find()
    return SiteDirectory(ttl=0), None


def process(  # noqa: PLR0911 - one return per reason reads best
    raw: RawHit,
    session: Session,
    settings: Settings,
    now: datetime | None = None,
    *,
    sites: SiteDirectory | None = None,
    salts: SaltStore | None = None,
) -> Verdict:
    """Validate, look up the site, apply DNT/GPC and bot rules, enrich and hash.

    ``session`` is only read (site lookup). ``sites`` and ``salts`` default to the
    current app's (``app.extensions``), else to uncached database lookups.
    ``raw`` is cleaned first (:func:`~page_tracker.ingest.normalise.normalise`).
    Never raises for bad input; database errors propagate.
    """
    now = now or datetime.now(UTC)
    if sites is None or salts is None:  # not on the ingest routes: they pass both
        default_sites, default_salts = _defaults()
        sites = sites or default_sites
        salts = salts or default_salts or DatabaseSaltStore(session.get_bind().engine)
    raw = normalise(raw)  # the one cleaning step of every route

    page = _page(raw.url)
    if page is None:
        return Verdict.reject(MALFORMED, detail="url must be an absolute http(s) URL")
    host, path = page
    if raw.path:
        path = raw.path[:MAX_PATH_LENGTH]
    if raw.event is not None and not (0 < len(raw.event) <= MAX_EVENT_LENGTH):
        return Verdict.reject(MALFORMED, detail="event must be 1 to 100 characters")

    if raw.site_id is not None:
        site = sites.by_id(session, raw.site_id) if raw.site_id.isalnum() else None
    else:
        site = sites.by_host(session, raw.host or host)
    if site is None:
        return Verdict.reject(UNKNOWN_SITE)
    if (raw.host or host).lower() not in site.hosts:
        return Verdict.reject(HOST_NOT_ALLOWED, site)
    if raw.dnt and site.honour_dnt:
        return Verdict.reject(DNT, site)

    found = enrich(raw.user_agent, raw.ip, raw.referrer, raw.url, raw.screen, site.hosts)
    if found.is_bot:
        return Verdict.reject(BOT, site, detail=found.bot_reason)

    day_salt = salts.salt_for(now.date())
    key = lifetime_key(settings)
    if raw.visitor_token:
        visitor = visitor_hash(day_salt, site.id, raw.ip, raw.user_agent)
        lifetime = hashlib.blake2b(
            f"{site.id}\0{raw.visitor_token}".encode(), digest_size=16, key=key
        ).digest()
    else:
        visitor, lifetime = visitor_hashes((day_salt, key), site.id, raw.ip, raw.user_agent)
    view = PageView(
        site_id=site.id,
        path=path,
        hostname=(raw.host or host).lower(),
        timestamp=now.astimezone(UTC),
        visitor=visitor,
        lifetime_visitor=lifetime,
        title=raw.title[:MAX_VALUE_LENGTH] if raw.title else None,
        event=raw.event,
        source=raw.source,
        keep_raw=site.retention_days is not None,
        enrichment=found,
    )
    return Verdict(True, ACCEPTED, view, site)
