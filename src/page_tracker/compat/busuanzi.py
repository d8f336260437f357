"""The Busuanzi (不蒜子) wire format: pure functions, no I/O.

A page carrying the Busuanzi script asks ``GET /busuanzi?jsonpCallback=NAME`` (JSONP) and
the counters are looked up for the page named by the ``Referer`` header: the site is the
referrer's host name, the page is host + path (the query and fragment are dropped). The
answer is exactly ``try{NAME({"site_uv":N,"page_pv":N,"version":2.4,"site_pv":N});}catch(e){}``.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from page_tracker.ingest.normalise import clean_text

VERSION = 2.4
COOKIE_NAME = "busuanziId"
# Browsers cap cookie lifetimes at 400 days; a reader stays one visitor that long.
COOKIE_MAX_AGE = 400 * 24 * 3600
MAX_CALLBACK_LENGTH = 128
MAX_PATH_LENGTH = 2048
# The longest page URL the hit path takes (ingest.verdict.MAX_URL_LENGTH).
MAX_URL_LENGTH = 2048

IDENTIFIER = r"^[A-Za-z_$][A-Za-z0-9_$]*$"
_IDENTIFIER = re.compile(IDENTIFIER)
# Cookies we set are 32 upper-case hex digits, like the original service's; accept any
# token of that alphabet so existing readers' cookies keep them one visitor.
COOKIE_PATTERN = r"^[A-Za-z0-9_-]{16,64}$"
_COOKIE_TOKEN = re.compile(COOKIE_PATTERN)
# ECMAScript reserved words (and literals): a callback named like one would be a syntax
# error in the answer at best, so it is refused like any other invalid name.
RESERVED = frozenset(
    """break case catch class const continue debugger default delete do else enum export
    extends false finally for function if implements import in instanceof interface let new
    null package private protected public return static super switch this throw true try
    typeof var void while with yield await arguments eval undefined NaN Infinity""".split()  # noqa: SIM905 - a word list reads better as text
)


@dataclass(frozen=True, slots=True)
class Page:
    """The page a Busuanzi request counts: ``host`` (lower-case, no port), ``path`` (no
    query) and the page's ``url`` (with its query, without fragment)."""

    host: str
    path: str
    url: str

    @property
    def key(self) -> str:
        """Busuanzi's page identity: host + path."""
        return self.host + self.path


def is_valid_callback(name: str | None) -> bool:
    """True when ``name`` is a plain JavaScript identifier (``BusuanziCallback_123``),
    at most 128 characters and not a reserved word. Anything else could inject script."""
    return (
        name is not None
        and len(name) <= MAX_CALLBACK_LENGTH
        and _IDENTIFIER.fullmatch(name) is not None
        and name not in RESERVED
    )


def parse_referer(referer: str | None) -> Page | None:
    """The page named by a ``Referer`` header, or ``None`` when it names none.

    Only absolute ``http``/``https`` URLs with a host name count. The host is lower-cased
    and loses its port and a trailing dot; the path keeps its encoding, defaults to ``/``
    and loses query and fragment. An over-long path (> 2048 characters) is refused; an
    over-long query is dropped from the page's ``url`` (the page still counts, without
    its campaign parameters).
    Control characters are removed, unstorable code points replaced (see
    :func:`page_tracker.ingest.normalise.clean_text`).
    """
    if not referer:
        return None
    # Cleaned as every hit is (page_tracker.ingest.normalise): the path is looked up
    # in the database for the answer's counters too.
    referer = clean_text(referer)
    try:
        parts = urlsplit(referer.strip())
        host = parts.hostname  # lower-cased, without port or user info
        _ = parts.port  # raises ValueError for a malformed port
    except ValueError:
        return None
    if parts.scheme not in {"http", "https"} or not host:
        return None
    host = host.rstrip(".")
    path = parts.path or "/"
    if not host or len(path) > MAX_PATH_LENGTH or any(ch.isspace() for ch in host):
        return None
    # The URL keeps its query (campaign parameters are read from it), not its fragment;
    # the query goes first when the URL is too long, before any length is judged.
    url = parts._replace(fragment="").geturl()
    if len(url) > MAX_URL_LENGTH:
        url = parts._replace(query="", fragment="").geturl()
    return Page(host=host, path=path, url=url)


def render(callback: str, site_pv: int, site_uv: int, page_pv: int) -> str:
    """The JSONP answer, byte for byte what the original service sends (the JSON of
    ``json.dumps(..., separators=(",", ":"))``, written directly: numbers only)."""
    payload = (
        f'{{"site_uv":{int(site_uv)},"page_pv":{int(page_pv)},'
        f'"version":{VERSION},"site_pv":{int(site_pv)}}}'
    )
    return f"try{{{callback}({payload});}}catch(e){{}}"


def cookie_token(value: str | None) -> str | None:
    """The visitor token carried by a ``busuanziId`` cookie, or ``None`` when the cookie is
    absent or not a token we could have set (then the reader is identified afresh)."""
    if value and _COOKIE_TOKEN.fullmatch(value):
        return value
    return None


def visitor_token(key: bytes, ip: str, user_agent: str) -> str:
    """A new reader's ``busuanziId``: keyed BLAKE2b of IP + User-Agent, 32 hex digits.

    Deterministic, so a reader whose browser refuses the cookie (it is ``Secure`` and
    ``SameSite=None``; plain-http pages drop it) still counts once; keyed (the key is
    derived from ``SECRET_KEY``), so the cookie reveals nothing about the IP.
    """
    digest = hashlib.blake2b(
        f"{ip}\x00{user_agent}".encode(), key=key[:64], digest_size=16, person=b"busuanziId"
    )
    return digest.hexdigest().upper()


def derive_key(secret_key: str) -> bytes:
    """The BLAKE2b key for :func:`visitor_token`, derived from ``SECRET_KEY``."""
    return hashlib.blake2b(secret_key.encode(), digest_size=32, person=b"pt-busuanzi").digest()


def host_matches(host: str, patterns: Iterable[str]) -> bool:
    """True when ``host`` matches one of the glob ``patterns`` (``*.example.com``),
    case-insensitively. ``*`` alone matches every host."""
    host = host.lower()
    return any(fnmatch.fnmatchcase(host, pattern.strip().lower()) for pattern in patterns)
