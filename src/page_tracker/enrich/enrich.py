"""``enrich()``: everything page-tracker derives from one hit's request data.

Pure and offline: no I/O at call time beyond the lazily loaded, package-bundled data
(ua-parser rules, the crawler list and the IP-to-country table, each loaded once per
process on first use).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from page_tracker.enrich import agents, geo
from page_tracker.enrich.agents import analyse
from page_tracker.enrich.campaigns import campaign
from page_tracker.enrich.geo import country
from page_tracker.enrich.referrers import referrer as normalise_referrer
from page_tracker.enrich.screens import screen_class


@dataclass(frozen=True, slots=True)
class Enrichment:
    """What one hit's headers, address and URLs say about the visit (no raw IP).

    The defaults are "nothing known": ua-parser's ``"Other"``, no version, device
    ``"other"``, no referrer, campaign, country or screen class.
    """

    bot_reason: str | None = None  # why the hit is a bot (see .bots); None for a browser
    browser: str = "Other"
    browser_version: str = ""
    os: str = "Other"
    os_version: str = ""
    device: str = "other"  # "desktop" | "mobile" | "tablet" | "bot" | "other"
    referrer_host: str | None = None
    referrer_source: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_term: str | None = None
    utm_content: str | None = None
    country: str | None = None  # ISO 3166-1 alpha-2
    screen_class: str | None = None  # "phone" | "tablet" | "laptop" | "desktop" | "large"

    @property
    def is_bot(self) -> bool:
        return self.bot_reason is not None


def warm_up() -> None:
    """Load every bundled data set now (about 0.2 s, once per process) so that the first
    hit does not wait for it. Optional and idempotent: without it each set loads on
    first use. Call it where a worker process starts (the app factory)."""
    agents.warm_up()
    geo.warm_up()


def enrich(  # noqa: PLR0917 - one argument per piece of request data, as documented
    user_agent: str,
    ip: str,
    referrer: str | None,
    page_url: str,
    screen: str | None,
    site_hosts: Collection[str],
) -> Enrichment:
    """Derive the :class:`Enrichment` of one hit.

    - ``user_agent``: the User-Agent header (may be empty: then a bot,
      ``bot_reason="empty-user-agent"``); see :mod:`.agents` and :mod:`.bots`.
    - ``ip``: the client address (IPv4 or IPv6); only its country is kept, ``None`` for
      private, loopback and malformed addresses; see :mod:`.geo`.
    - ``referrer``: the referring URL; ``referrer_host``/``referrer_source`` are
      ``None`` when it is missing, malformed or a self-referral to one of
      ``site_hosts``; see :mod:`.referrers`.
    - ``page_url``: the tracked page's URL, whose query gives the ``utm_*`` fields
      (``ref``/``source`` as ``utm_source`` fallbacks); see :mod:`.campaigns`.
    - ``screen``: ``"WxH"`` from the script; see :mod:`.screens`.

    Never raises for malformed input: what cannot be parsed is ``None`` (or "Other").
    """
    agent = analyse(user_agent)
    source = normalise_referrer(referrer, site_hosts)
    utm = campaign(page_url)
    return Enrichment(
        bot_reason=agent.bot_reason,
        browser=agent.browser,
        browser_version=agent.browser_version,
        os=agent.os,
        os_version=agent.os_version,
        device=agent.device,
        referrer_host=source.host,
        referrer_source=source.source,
        utm_source=utm.source,
        utm_medium=utm.medium,
        utm_campaign=utm.name,
        utm_term=utm.term,
        utm_content=utm.content,
        country=country(ip),
        screen_class=screen_class(screen),
    )
