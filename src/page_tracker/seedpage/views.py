"""``GET /``: the seed page of the page tracker (kept exactly as the contract says)."""

from __future__ import annotations

import logging

from flask import Blueprint, request

from page_tracker.errors import StoreError
from page_tracker.seedpage.store import STORE

log = logging.getLogger(__name__)
bp = Blueprint("seedpage", __name__)

COUNTER_NAME = "page_views"
FAILURE_BODY = "Sorry, something went wrong \N{PENSIVE FACE}"


@bp.get("/")
def index() -> tuple[str, int, dict[str, str]]:
    headers = {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}
    try:
        # HEAD never counts (spec 5): it reads the number a GET would show.
        store = STORE.get()
        if request.method == "HEAD":
            page_views = store.get(COUNTER_NAME)
        else:
            page_views = store.increment(COUNTER_NAME)
    except StoreError:
        log.exception("Unable to count the page view")
        return FAILURE_BODY, 500, headers
    return f"This page has been seen {page_views} times.", 200, headers
