"""Site management and lookup. Functions take the caller's session and never commit,
except where a docstring says so."""

from __future__ import annotations

import re
import secrets
import string
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from page_tracker.errors import Conflict, NotFound, ValidationFailed
from page_tracker.extensions import Extension
from page_tracker.sites.known import site_created
from page_tracker.sites.models import MAX_HOST_LENGTH, SITE_ID_LENGTH, Site, SiteHost

SiteCleanup = Callable[[Session, str], None]

_ALPHABET = string.ascii_lowercase + string.digits
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_HOST = re.compile(rf"{_LABEL}(\.{_LABEL})*")


def new_site_id() -> str:
    """A random public id: 12 characters of ``[a-z0-9]`` (62 bits)."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(SITE_ID_LENGTH))


def normalise_host(host: str) -> str:
    """Lower-case host name without port, trailing dot or surrounding blanks.

    Raises :class:`ValidationFailed` unless the result is a syntactically valid DNS name.
    """
    value = host.strip().lower().rstrip(".")
    if value.startswith("[") or value.count(":") > 1:  # IPv6 literal: not a site host
        raise ValidationFailed(f"invalid host name: {host!r}")
    value = value.split(":", 1)[0]
    if not value or len(value) > MAX_HOST_LENGTH or not _HOST.fullmatch(value):
        raise ValidationFailed(f"invalid host name: {host!r}")
    return value


def allowed_hosts(site: Site) -> set[str]:
    """The host names that may send hits for ``site``: its domain, ``www.`` + domain,
    and its extra hosts."""
    domain = site.domain
    bare = domain.removeprefix("www.")
    return {domain, bare, f"www.{bare}", *(extra.host for extra in site.hosts)}


def create_site(
    session: Session,
    domain: str,
    hosts: Iterable[str] = (),
    *,
    public_counters: bool = False,
    honour_dnt: bool = True,
    retention_days: int | None = None,
) -> Site:
    """Create and flush a site. Raises :class:`Conflict` when the domain or one of the
    hosts already belongs to a site, :class:`ValidationFailed` for invalid names."""
    domain = normalise_host(domain)
    extra = {normalise_host(host) for host in hosts} - {domain}
    if retention_days is not None and retention_days < 1:
        raise ValidationFailed("retention days must be at least 1")
    taken = _host_owner(session, {domain, *extra})
    if taken:
        raise Conflict(f"{domain} or one of its hosts already belongs to site {taken}")
    site = Site(
        id=new_site_id(),
        domain=domain,
        public_counters=public_counters,
        honour_dnt=honour_dnt,
        retention_days=retention_days,
        hosts=[SiteHost(host=host) for host in sorted(extra)],
    )
    session.add(site)
    _flush_or_conflict(session, f"{domain} or one of its hosts already belongs to a site")
    site_created(site.id)  # rolled back later: a false positive, harmless in a filter
    return site


def _flush_or_conflict(session: Session, message: str) -> None:
    """Flush; a unique host or domain taken meanwhile by a concurrent change (the
    check before it raced) becomes :class:`Conflict` with ``message``."""
    try:
        session.flush()
    except IntegrityError as error:
        session.rollback()
        raise Conflict(message) from error


def _host_owner(session: Session, hosts: set[str]) -> str | None:
    """The id of a site whose domain or extra host is one of ``hosts``, if any."""
    return session.scalar(select(Site.id).where(Site.domain.in_(hosts))) or session.scalar(
        select(SiteHost.site_id).where(SiteHost.host.in_(hosts))
    )


def update_site(
    session: Session,
    site_id: str,
    *,
    public_counters: bool | None = None,
    honour_dnt: bool | None = None,
    retention_days: int | None = None,
    sharing: bool | None = None,
    add_hosts: Iterable[str] = (),
    remove_hosts: Iterable[str] = (),
) -> Site:
    """Change a site's options and extra hosts (``None``: leave as it is); flushes.

    ``retention_days=0`` stops keeping raw hits. Raises :class:`NotFound`,
    :class:`Conflict` (an added host belongs to another site) and
    :class:`ValidationFailed` (invalid names, removing a host the site does not have).
    """
    site = session.get(Site, site_id)
    if site is None:
        raise NotFound(f"no site {site_id}")
    added = {normalise_host(host) for host in add_hosts}
    removed = {normalise_host(host) for host in remove_hosts}
    current = {extra.host for extra in site.hosts}
    if missing := removed - current:
        raise ValidationFailed(f"site {site_id} has no extra host {', '.join(sorted(missing))}")
    if retention_days is not None and retention_days < 0:
        raise ValidationFailed("retention days must be 0 (no raw hits) or more")
    added -= current | allowed_hosts(site)
    if added and (owner := _host_owner(session, added)):
        raise Conflict(f"one of {', '.join(sorted(added))} already belongs to site {owner}")
    if public_counters is not None:
        site.public_counters = public_counters
    if honour_dnt is not None:
        site.honour_dnt = honour_dnt
    if sharing is not None:
        site.sharing = sharing
    if retention_days is not None:
        site.retention_days = retention_days or None
    site.hosts = [extra for extra in site.hosts if extra.host not in removed] + [
        SiteHost(host=host) for host in sorted(added)
    ]
    _flush_or_conflict(session, f"one of {', '.join(sorted(added))} already belongs to a site")
    return site


def get_site(session: Session, site_id: str) -> Site | None:
    return session.get(Site, site_id)


def list_sites(session: Session) -> Sequence[Site]:
    return session.scalars(select(Site).order_by(Site.domain)).all()


def delete_site(session: Session, site_id: str, cleanups: Iterable[SiteCleanup] = ()) -> None:
    """Delete a site and its hosts, then run each ``cleanup(session, site_id)`` in the same
    transaction (the statistics feature deletes the site's statistics this way: see
    :data:`SITE_CLEANUPS`). Raises :class:`NotFound`."""
    site = session.get(Site, site_id)
    if site is None:
        raise NotFound(f"no site {site_id}")
    session.delete(site)  # its hosts go with it (cascade), loaded or not
    session.flush()
    for cleanup in cleanups:
        cleanup(session, site_id)


def find_site_for_host(session: Session, host: str) -> Site | None:
    """The site a host name belongs to: its domain, its ``www.`` form, or an extra host."""
    try:
        name = normalise_host(host)
    except ValidationFailed:
        return None
    bare = name.removeprefix("www.")
    site = session.scalar(select(Site).where(Site.domain.in_({name, bare, f"www.{bare}"})))
    if site is not None:
        return site
    return session.scalar(select(Site).join(SiteHost).where(SiteHost.host == name))


@dataclass(frozen=True, slots=True)
class SiteInfo:
    """An immutable snapshot of what the hit path needs to know about a site."""

    id: str
    domain: str
    hosts: frozenset[str]
    public_counters: bool
    honour_dnt: bool
    retention_days: int | None

    @classmethod
    def of(cls, site: Site) -> SiteInfo:
        return cls(
            id=site.id,
            domain=site.domain,
            hosts=frozenset(allowed_hosts(site)),
            public_counters=site.public_counters,
            honour_dnt=site.honour_dnt,
            retention_days=site.retention_days,
        )


class SiteDirectory:
    """Site lookups for the hit path, cached in-process for ``ttl`` seconds.

    Each hit would otherwise cost one or two queries; a changed site option is seen
    by every worker within ``ttl`` seconds. Misses are cached too (an unknown site id
    hammering the endpoint costs no queries). Thread-safe.

    One query per key at a time: when an entry is missing, one thread loads it and the
    others wait for that load; when it expired, one thread reloads it and the others
    answer from the expired entry meanwhile. So a burst of requests for a site whose
    entry just expired costs one pooled connection, not one per request.
    """

    def __init__(self, ttl: float = 10.0) -> None:
        self.ttl = ttl
        self._by_id: dict[str, tuple[float, SiteInfo | None]] = {}
        self._by_host: dict[str, tuple[float, SiteInfo | None]] = {}
        self._loading: dict[tuple[int, str], threading.Lock] = {}
        self._lock = threading.Lock()

    def by_id(self, session: Session, site_id: str) -> SiteInfo | None:
        return self._cached(self._by_id, site_id, lambda: get_site(session, site_id))

    def by_host(self, session: Session, host: str) -> SiteInfo | None:
        return self._cached(self._by_host, host, lambda: find_site_for_host(session, host))

    def clear(self) -> None:
        with self._lock:
            self._by_id.clear()
            self._by_host.clear()

    def _cached(
        self,
        cache: dict[str, tuple[float, SiteInfo | None]],
        key: str,
        load: Callable[[], Site | None],
    ) -> SiteInfo | None:
        # Unlocked read: one dict lookup is atomic, and a lock taken on every hit
        # convoys the request threads under load (writers still take it).
        hit = cache.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        with self._lock:
            if len(self._loading) > 10_000:  # bound memory against random keys
                self._loading.clear()
            loading = self._loading.setdefault((id(cache), key), threading.Lock())
        if not loading.acquire(blocking=hit is None):
            return hit[1] if hit is not None else None  # being reloaded: the stale entry
        try:
            again = cache.get(key)
            if again is not None and again[0] > time.monotonic():
                return again[1]  # loaded by the thread this one waited for
            site = load()
            info = SiteInfo.of(site) if site is not None else None
            with self._lock:
                if len(cache) > 10_000:  # bound memory against random ids
                    cache.clear()
                cache[key] = (time.monotonic() + self.ttl, info)
            return info
        finally:
            loading.release()


SITES: Extension[SiteDirectory] = Extension(
    "page_tracker.sites", "the site cache of the hit path and the public counters"
)
SITE_CLEANUPS: Extension[list[SiteCleanup]] = Extension(
    "page_tracker.site_cleanups", "what other features delete together with a site"
)
