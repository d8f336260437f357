"""Bot, crawler and headless-browser detection from the User-Agent header alone.

Rules, first match wins; the reason names the rule and what matched it:

==========================  ===========================================================
``empty-user-agent``        no User-Agent, or only white space
``headless:<marker>``       automated browsers: HeadlessChrome (the default of Puppeteer,
                            Playwright and Selenium's headless Chromium), PhantomJS,
                            SlimerJS, HtmlUnit, jsdom, Lighthouse ...
``http-client:<name>``      HTTP libraries and command-line clients: curl, Wget,
                            python-requests, Go-http-client, okhttp, axios ...
``crawler:<match>``         the community list of crawler patterns in the
                            ``crawler-user-agents`` package (monperrus/crawler-user-agents,
                            MIT, ~1 500 patterns, released every few weeks)
``spider:<family>``         ua-parser's device family "Spider" (uap-core's own bot rules)
``short-user-agent``        fewer than 20 characters: no browser sends so little
==========================  ===========================================================

``navigator.webdriver`` and Chrome's newer ``--headless=new`` mode, whose User-Agent is
that of a normal Chrome, cannot be seen by the server; nothing here pretends otherwise.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from page_tracker.enrich.matchers import FirstMatch

MIN_LENGTH = 20

_HEADLESS = (
    r"(HeadlessChrome|PhantomJS|SlimerJS|HtmlUnit|\bjsdom\b|Puppeteer|Playwright|Selenium"
    r"|WebDriver|Cypress|Nightmare|Zombie\.js|\bSplash\b|Lighthouse)"
)
# Names that start the header, as these libraries send them ("curl/8.4.0"); longer names
# first where one is the prefix of another (python-requests before python).
_HTTP_CLIENT_PREFIX = (
    r"^(curl|libcurl|wget|python-requests|python-urllib|python-httpx|httpx|aiohttp|urllib3"
    r"|pycurl|python|go-http-client|go|java|apache-httpclient|okhttp|jakarta|libwww-perl"
    r"|lwp::simple|node-fetch|node|axios|undici|got|deno|bun|ruby|faraday|http\.rb"
    r"|rest-client|typhoeus|guzzlehttp|php|dart|reqwest|rust|httpie|postmanruntime"
    r"|insomnia|scrapy|mechanize|winhttp|powershell|wp-http|nmap)(?:[/\s;(]|$)"
)
# Markers these clients put elsewhere in a browser-like header.
_HTTP_CLIENT_ANYWHERE = r"(WindowsPowerShell|\bScrapy\b|\bHTTPie\b)"


@functools.cache
def _rules() -> FirstMatch:
    """Headless and HTTP-client rules, compiled once per process on first use."""
    return FirstMatch(
        [
            (_HEADLESS, "headless:$1"),
            (_HTTP_CLIENT_PREFIX, "http-client:$1"),
            (_HTTP_CLIENT_ANYWHERE, "http-client:$1"),
        ],
        ignore_case=True,
    )


@functools.cache
def _crawler_matcher() -> Callable[[str], str | None]:
    """The crawler list, loaded and compiled once per process on first use."""
    import crawleruseragents  # noqa: PLC0415 - loads a 0.5 MB JSON file: only when needed

    patterns = [str(entry["pattern"]) for entry in crawleruseragents.CRAWLER_USER_AGENTS_DATA]
    # The label is the pattern's index; the matched text is then found with Python's re,
    # which only runs for headers that are crawlers.
    first = FirstMatch((pattern, str(index)) for index, pattern in enumerate(patterns))

    def match(user_agent: str) -> str | None:
        index = first(user_agent)
        if index is None:
            return None
        pattern = patterns[int(index)]
        found = re.search(pattern, user_agent)
        return (found[0] if found else pattern).strip(" /;()") or pattern

    return match


def warm_up() -> None:
    """Compile the rules and load the crawler list now rather than on the first header."""
    _rules()
    _crawler_matcher()


def bot_reason(user_agent: str, device_family: str = "", browser_family: str = "") -> str | None:
    """Why ``user_agent`` is a bot (see the table above), or ``None`` for a browser.

    ``device_family``/``browser_family`` are ua-parser's results for the same header,
    passed in so the header is parsed once.
    """
    stripped = user_agent.strip()
    if not stripped:
        return "empty-user-agent"
    if (rule := _rules()(stripped)) is not None:
        kind, _, name = rule.partition(":")
        return f"{kind}:{name.lower()}" if kind == "http-client" else rule
    if crawler := _crawler_matcher()(stripped):
        return f"crawler:{crawler}"
    if device_family == "Spider":
        return f"spider:{browser_family or 'Other'}"
    if len(stripped) < MIN_LENGTH:
        return "short-user-agent"
    return None
