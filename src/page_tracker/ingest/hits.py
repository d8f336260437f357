"""What an endpoint parsed: :class:`RawHit`, one tracking request before it is judged."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Source = Literal["js", "pixel", "busuanzi", "plausible", "api"]


@dataclass(frozen=True, slots=True)
class RawHit:
    """One tracking request as an endpoint parsed it; nothing is validated yet.

    ``site_id`` is ``None`` when the endpoint identifies the site by host name
    (Busuanzi, Plausible); ``host`` is the page's host name (from ``url``).
    ``visitor_token`` is a client-held identifier (the Busuanzi cookie) that replaces
    the IP/User-Agent hash for all-time uniques.
    """

    site_id: str | None
    url: str
    user_agent: str
    ip: str
    host: str | None = None
    path: str | None = None
    referrer: str | None = None
    title: str | None = None
    screen: str | None = None
    event: str | None = None
    dnt: bool = False
    source: Source = "api"
    visitor_token: str | None = None
