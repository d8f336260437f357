"""Per-call cost of hit enrichment (page_tracker.enrich), measured with timeit.

Run: ``make bench-enrich`` (or ``.venv/bin/python bench/enrich_timing.py``). Prints the
one-off cost of loading each bundled data set, then microseconds per call (best of 5
repeats) for cache hits and misses. Not a test: timings on a shared machine are noisy.
"""

from __future__ import annotations

import itertools
import time
import timeit
from collections.abc import Callable

from page_tracker.enrich import agents, bots, enrich, geo, visitor_hash
from page_tracker.enrich.agents import analyse
from page_tracker.enrich.campaigns import campaign
from page_tracker.enrich.geo import country
from page_tracker.enrich.referrers import referrer
from page_tracker.enrich.screens import screen_class

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)
URL = "https://example.com/blog/post?utm_source=newsletter&utm_medium=email&utm_campaign=x"
HOSTS = {"example.com", "www.example.com"}


def _once(label: str, call: Callable[[], object]) -> None:
    start = time.perf_counter()
    call()
    print(f"{label:<46} {(time.perf_counter() - start) * 1e3:9.1f} ms (once per process)")


def _per_call(label: str, call: Callable[[], object], number: int) -> None:
    best = min(timeit.repeat(call, number=number, repeat=5)) / number
    print(f"{label:<46} {best * 1e6:9.2f} µs/call")


def main() -> None:
    import ua_parser  # noqa: PLC0415

    _once("load ua-parser rules (Rust resolver)", lambda: ua_parser.parser)
    _once("compile bot rules + crawler-user-agents list", bots.warm_up)
    _once("compile device tokens (rest of agents.warm_up)", agents.warm_up)
    _once("load iptocc table", geo.warm_up)
    analyse(CHROME)
    fresh = (f"{CHROME} build/{n}" for n in itertools.count())
    _per_call("analyse(UA), cache hit", lambda: analyse(CHROME), 200_000)
    _per_call("analyse(UA), cache miss (new header)", lambda: analyse(next(fresh)), 2_000)
    _per_call("country(IPv4)", lambda: country("81.2.69.160"), 100_000)
    _per_call("country(IPv6)", lambda: country("2001:4860:4860::8888"), 100_000)
    _per_call("country(private IPv4)", lambda: country("192.168.1.20"), 100_000)
    _per_call(
        "referrer(search engine)", lambda: referrer("https://www.google.com/", HOSTS), 100_000
    )
    _per_call("referrer(None)", lambda: referrer(None, HOSTS), 100_000)
    _per_call("campaign(URL with 3 utm_*)", lambda: campaign(URL), 100_000)
    _per_call("campaign(URL without query)", lambda: campaign("https://example.com/a"), 100_000)
    _per_call("screen_class", lambda: screen_class("1920x1080"), 100_000)
    _per_call("visitor_hash", lambda: visitor_hash(b"k" * 32, "abc", "8.8.8.8", CHROME), 100_000)
    _per_call(
        "enrich(), all fields, UA cached",
        lambda: enrich(IPHONE, "8.8.8.8", "https://news.ycombinator.com/", URL, "390x844", HOSTS),
        50_000,
    )
    _per_call(
        "enrich(), typical hit (no referrer, no utm)",
        lambda: enrich(CHROME, "81.2.69.160", None, "https://example.com/a", "1920x1080", HOSTS),
        50_000,
    )
    _per_call(
        "enrich(), new UA every call",
        lambda: enrich(next(fresh), "8.8.8.8", None, "https://example.com/a", None, HOSTS),
        2_000,
    )


if __name__ == "__main__":
    main()
