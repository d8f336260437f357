"""Campaign (UTM) fields from the query string of the page URL."""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import parse_qs, urlsplit

MAX_LENGTH = 200  # keeps dimension tables small; real campaign tags are far shorter
# Like Plausible: without utm_source, `?ref=` and then `?source=` name the source.
_SOURCE_FALLBACKS = ("ref", "source")


class Campaign(NamedTuple):
    source: str | None = None
    medium: str | None = None
    name: str | None = None
    term: str | None = None
    content: str | None = None


NO_CAMPAIGN = Campaign()


def _first(params: dict[str, list[str]], key: str) -> str | None:
    for raw in params.get(key, ()):
        if value := raw.strip():
            if not value.isascii():
                # Lone surrogates (a JSON body's "\ud800") cannot be stored as UTF-8.
                value = value.encode("utf-8", "replace").decode("utf-8")
            return value[:MAX_LENGTH]
    return None


def campaign(page_url: str | None) -> Campaign:
    """The utm_source/medium/campaign/term/content values of ``page_url``'s query.

    The first non-blank value of each parameter wins, trimmed and cut to 200 characters;
    a missing parameter is ``None``. ``ref`` and then ``source`` stand in for a missing
    ``utm_source``. A URL that cannot be parsed yields no campaign.
    """
    if not page_url or "?" not in page_url:
        return NO_CAMPAIGN
    try:
        query = urlsplit(page_url).query
    except ValueError:
        return NO_CAMPAIGN
    if not query:
        return NO_CAMPAIGN
    params = parse_qs(query)
    source = _first(params, "utm_source")
    for key in _SOURCE_FALLBACKS:
        if source is not None:
            break
        source = _first(params, key)
    return Campaign(
        source=source,
        medium=_first(params, "utm_medium"),
        name=_first(params, "utm_campaign"),
        term=_first(params, "utm_term"),
        content=_first(params, "utm_content"),
    )
