"""Addresses of the site page with some of its URL's choices changed: a preset, a
filter set by a click on a row or removed by its chip, the next rows of a table. Only
the page's own parameters are carried over, so a bookmark keeps the view and nothing
else."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from flask import url_for

from page_tracker.dashboard import filters, tables

RANGE_PARAMS = ("range", "from", "to", "tz", "interval")
OFFSETS = tuple(f"{table.key}_offset" for table in tables.TABLES)
KEPT = (*RANGE_PARAMS, *filters.NAMES, *OFFSETS)


def kept(args: Mapping[str, str]) -> dict[str, str]:
    return {name: args[name] for name in KEPT if name in args}


def site_page(site_id: str, args: Mapping[str, str], **changes: str | None) -> str:
    """The site page with ``changes`` applied (``None`` removes a parameter)."""
    params: dict[str, Any] = changed(args, **changes)
    return url_for("dashboard.site_page", site_id=site_id, **params)


def changed(args: Mapping[str, str], **changes: str | None) -> dict[str, str]:
    """The page's parameters with ``changes`` applied (``None`` removes one); a new range
    or filter starts every table at its first row, and a new dimension filter replaces
    the other one (a page filter stays beside it). (A share link's page uses them too.)"""
    params = kept(args)
    changed = set(changes)
    if changed & {"range", "from", "to", "tz", *filters.NAMES}:
        for name in OFFSETS:
            params.pop(name, None)
    setting = {name for name, value in changes.items() if value is not None}
    if setting & set(filters.DIMENSIONS):  # one dimension filter at a time
        for name in filters.DIMENSIONS:
            params.pop(name, None)
    if "range" in changed and changes["range"] != "custom":
        for name in ("from", "to", "interval"):
            params.pop(name, None)
    for name, value in changes.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
    return params


# What werkzeug leaves unquoted in a query string (werkzeug.urls._urlencode), so that
# :func:`with_query` builds the very address ``url_for`` builds.
_SAFE = "!$'()*,/:;?@"


def with_query(base: str, params: Mapping[str, str]) -> str:
    """``base`` (a ``url_for`` address without query) with ``params`` as its query, as
    ``url_for(..., **params)`` writes it: a site page has a hundred links, and building
    each through the URL map cost a fifth of the page's time (bench/README.md)."""
    return f"{base}?{urlencode(params, safe=_SAFE)}" if params else base


def stats_api(site_id: str, query: Mapping[str, str], **extra: str) -> str:
    """The stats API address of the numbers shown (the chart's data, the CSV download)."""
    params: dict[str, Any] = {**query, **extra}
    return url_for("api_stats.site_stats", site_id=site_id, **params)
