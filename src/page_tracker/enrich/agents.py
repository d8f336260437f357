"""User-Agent header -> browser, operating system, device class and bot verdict.

Parsing uses ua-parser (Apache-2.0) with the uap-core rules bundled in
``ua-parser-builtins`` (monthly releases, e.g. 202610) and the Rust accelerator
``ua-parser-rs``. ua-parser names families and versions but not a device *class*; the
small classifier below derives desktop/mobile/tablet/other from its results and from
the well-known header tokens ("Mobi", "Tablet", Android without "Mobile"), the same
heuristics the ``user-agents`` package used (that package is unmaintained since 2020).

Results are cached per header (:func:`functools.lru_cache`): the same few thousand
headers make up almost all traffic, so a cache hit is the common case on the ingest path.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import ua_parser

from page_tracker.enrich.bots import bot_reason
from page_tracker.enrich.bots import warm_up as warm_up_bots
from page_tracker.enrich.matchers import FirstMatch

MAX_LENGTH = 1024  # longer headers are cut before parsing (bounds the cache's memory)
CACHE_SIZE = 8192

UNKNOWN = "Other"  # ua-parser's family for "not recognised"

# Header tokens, searched case-insensitively, first match wins.
_DEVICE_TOKENS = (
    (
        r"smart-?tv|\btv\b|googletv|appletv|\btvos\b|crkey|roku|\baft[a-z]|hbbtv|web0s"
        r"|bravia|playstation|xbox|nintendo|oculusbrowser|\bquest\b|\bwatchos\b|wear os",
        "other",
    ),
    (r"ipad|tablet|kindle|\bsilk\b|playbook|nexus (?:7|9|10)\b", "tablet"),
    (r"mobi|iphone|ipod|opera mini|blackberry|\bbb10\b|windows phone|kaios", "mobile"),
)
_TABLET_DEVICES = frozenset({"iPad", "Generic Tablet", "Kindle"})
_MOBILE_DEVICES = frozenset({"iPhone", "iPod", "Generic Smartphone", "Generic Feature Phone"})
_MOBILE_OSES = frozenset(
    {
        "Android",
        "iOS",
        "Windows Phone",
        "BlackBerry OS",
        "BlackBerry Tablet OS",
        "KaiOS",
        "Firefox OS",
        "Symbian OS",
        "HarmonyOS",
    }
)
_DESKTOP_OSES = frozenset(
    {
        "Windows",
        "Mac OS X",
        "Chrome OS",
        "Linux",
        "Ubuntu",
        "Debian",
        "Fedora",
        "Red Hat",
        "SUSE",
        "Mint",
        "Arch Linux",
        "Gentoo",
        "Slackware",
        "Mageia",
        "FreeBSD",
        "OpenBSD",
        "NetBSD",
        "Solaris",
    }
)


class Agent(NamedTuple):
    browser: str
    browser_version: str
    os: str
    os_version: str
    device: str  # "desktop" | "mobile" | "tablet" | "bot" | "other"
    bot_reason: str | None

    @property
    def is_bot(self) -> bool:
        return self.bot_reason is not None


@functools.cache
def _tokens() -> FirstMatch:
    return FirstMatch(_DEVICE_TOKENS, ignore_case=True)


def _device_class(user_agent: str, os_family: str, device_family: str) -> str:
    marker = _tokens()(user_agent)
    if marker == "other":
        return "other"
    if marker == "tablet" or device_family in _TABLET_DEVICES:
        return "tablet"
    if os_family == "Android" and "Mobile" not in user_agent:
        # Android tablets leave "Mobile" out of the header (Chrome and Firefox alike).
        return "tablet"
    if marker == "mobile" or device_family in _MOBILE_DEVICES or os_family in _MOBILE_OSES:
        return "mobile"
    if os_family in _DESKTOP_OSES or device_family == "Mac":
        return "desktop"
    return "other"


def _version(*parts: str | None) -> str:
    present: list[str] = []
    for part in parts:
        if not part:
            break
        present.append(part)
    return ".".join(present)


@functools.lru_cache(maxsize=CACHE_SIZE)
def _analyse(user_agent: str) -> Agent:
    if not user_agent.isascii():
        # The Rust matchers take UTF-8: lone surrogates (possible from a JSON body's
        # "\ud800") become "?" instead of raising UnicodeEncodeError.
        user_agent = user_agent.encode("utf-8", "replace").decode("utf-8")
    result = ua_parser.parse(user_agent)
    browser = result.user_agent.family if result.user_agent else UNKNOWN
    browser_version = _version(result.user_agent.major) if result.user_agent else ""
    os_family = result.os.family if result.os else UNKNOWN
    os_version = _version(result.os.major, result.os.minor) if result.os else ""
    device_family = result.device.family if result.device else UNKNOWN
    reason = bot_reason(user_agent, device_family, browser)
    device = "bot" if reason else _device_class(user_agent, os_family, device_family)
    return Agent(browser, browser_version, os_family, os_version, device, reason)


def warm_up() -> None:
    """Load ua-parser's rules and compile the token and bot rules now, not on first use."""
    _ = ua_parser.parser  # the module-level __getattr__ builds the global parser
    _tokens()
    warm_up_bots()


def analyse(user_agent: str | None) -> Agent:
    """Browser family and major version, OS family and ``major.minor`` version, device
    class and bot reason of a User-Agent header.

    Unknown families are ``"Other"`` and unknown versions ``""`` (ua-parser's
    conventions). Bots have device ``"bot"`` and a non-``None`` ``bot_reason``.
    """
    return _analyse((user_agent or "")[:MAX_LENGTH])


cache_info = _analyse.cache_info
