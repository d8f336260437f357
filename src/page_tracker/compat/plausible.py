"""The Plausible event body (``POST /api/event``): parsing and validation, no I/O.

The official trackers (the ``plausible-tracker`` npm package and Plausible's ``script.js``)
send ``{"n": name, "u": url, "d": domain[,domain...], "r": referrer|null, "w": width,
"h": 0|1, "p": props}`` as ``text/plain`` (a CORS-simple request, no preflight). ``n`` is
``"pageview"`` for a page view; ``d`` names the site(s) and may list several domains
separated by commas (Plausible's roll-up sites); ``h`` = 1 means the app routes with the
URL fragment, which is then part of the path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from page_tracker.errors import PayloadTooLarge, ValidationFailed
from page_tracker.ingest.parsing import load_json
from page_tracker.ingest.schemas import PAGE_URL

MAX_BODY_BYTES = 16 * 1024
MAX_URL_LENGTH = 2048
MAX_DOMAINS = 10
PAGEVIEW = "pageview"


# What the validators below check, said in the document's own terms (JSON Schema), for
# the OpenAPI document: a body it calls valid is an event (202), whatever else is valid.
# A name needs a printable character (one of control characters only would be cleaned
# to nothing and not counted: "malformed").
_PRINTABLE = r"[^\s\x00-\x1f\x7f-\x9f]"
_DOMAINS = rf"^[^,]*[^,\s][^,]*(,[^,]*[^,\s][^,]*){{0,{MAX_DOMAINS - 1}}}$"


class PlausibleEvent(BaseModel):
    """An event as Plausible's trackers send it (``text/plain`` JSON)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    n: str = Field(
        min_length=1,
        max_length=100,
        description='The event\'s name: "pageview" for a page view, else a custom event.',
        json_schema_extra={"pattern": _PRINTABLE},
        examples=[PAGEVIEW],
    )
    u: str = Field(
        min_length=1,
        max_length=MAX_URL_LENGTH,
        description="The page's absolute http(s) URL.",
        json_schema_extra={"pattern": PAGE_URL},
        examples=["https://blog.example.org/post"],
    )
    d: str = Field(
        min_length=1,
        max_length=1000,
        description=f"The site's domain; up to {MAX_DOMAINS} separated by commas (roll-ups).",
        json_schema_extra={"pattern": _DOMAINS},
        examples=["blog.example.org"],
    )
    r: str | None = Field(
        default=None, max_length=MAX_URL_LENGTH, description="The referrer (document.referrer)."
    )
    w: int | None = Field(default=None, ge=0, le=100_000, description="The viewport's width.")
    h: bool = Field(default=False, description="Hash routing: the URL's fragment is the page's.")
    p: dict[str, Any] | str | None = Field(
        default=None,
        description="Custom properties: an object, or (plausible-tracker) the same object "
        "JSON-encoded in a string.",
        json_schema_extra={"anyOf": [{"type": "object"}, {"type": "null"}]},
    )

    @field_validator("n")
    @classmethod
    def _name(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be blank")
        return value

    @field_validator("u")
    @classmethod
    def _url(cls, value: str) -> str:
        try:
            parts = urlsplit(value)
            _ = parts.port  # raises ValueError for a port out of range
        except ValueError:
            raise ValueError("must be an absolute http(s) URL") from None
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError("must be an absolute http(s) URL")
        return value

    @field_validator("d")
    @classmethod
    def _domains(cls, value: str) -> str:
        domains = [part.strip() for part in value.split(",")]
        if not all(domains) or len(domains) > MAX_DOMAINS:
            raise ValueError(f"must be 1 to {MAX_DOMAINS} domains separated by commas")
        return value

    @field_validator("p", mode="before")
    @classmethod
    def _props(cls, value: Any) -> Any:
        # plausible-tracker sends the props JSON-encoded in a string; script.js an object.
        if isinstance(value, str):
            try:
                decoded = load_json(value)
            except (ValueError, UnicodeDecodeError):
                raise ValueError("must be a JSON object") from None
            if not isinstance(decoded, dict):
                raise ValueError("must be a JSON object")
            return decoded
        return value


@dataclass(frozen=True, slots=True)
class Event:
    """A parsed Plausible event."""

    name: str
    url: str
    domains: tuple[str, ...]
    referrer: str | None
    width: int | None
    hash_mode: bool
    props: dict[str, Any]

    @property
    def host(self) -> str:
        """The page's host name (lower-case, no port)."""
        return urlsplit(self.url).hostname or ""

    @property
    def path(self) -> str:
        """The page's path; with hash routing the fragment too (``/#/settings``)."""
        parts = urlsplit(self.url)
        path = parts.path or "/"
        if self.hash_mode and parts.fragment:
            path = f"{path}#{parts.fragment}"
        return path

    @property
    def event(self) -> str | None:
        """``None`` for a page view, else the custom event's name."""
        return None if self.name == PAGEVIEW else self.name

    @property
    def screen(self) -> str | None:
        """The ``WxH`` screen string the enrichment classifies by width. Plausible sends
        only the viewport width; the height is unknown and set to 1 (never used)."""
        return f"{self.width}x1" if self.width else None


def parse_event(body: bytes) -> Event:
    """Parse a request body; raises :class:`ValidationFailed` (400) naming the problem,
    :class:`PayloadTooLarge` (413) for a body over :data:`MAX_BODY_BYTES`.

    The body is JSON whatever the ``Content-Type`` says (trackers send ``text/plain``).
    """
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(
            f"The body exceeds {MAX_BODY_BYTES} bytes", details={"max_bytes": MAX_BODY_BYTES}
        )
    try:
        raw = load_json(body)
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed("The body is not JSON", error_code=40001) from None
    if not isinstance(raw, dict):
        raise ValidationFailed("The body must be a JSON object", error_code=40001)
    try:
        parsed = PlausibleEvent.model_validate(raw)
    except RecursionError:  # props nested too deep (in a JSON string, decoded below)
        raise ValidationFailed("The event is nested too deep", error_code=40003) from None
    except ValidationError as error:
        details = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
            for e in error.errors(include_url=False, include_context=False, include_input=False)
        ]
        raise ValidationFailed("The event is invalid", details=details, error_code=40003) from None
    domains = tuple(dict.fromkeys(part.strip().lower() for part in parsed.d.split(",")))
    return Event(
        name=parsed.n,
        url=parsed.u,
        domains=domains,
        referrer=parsed.r or None,
        width=parsed.w,
        hash_mode=parsed.h,
        props=parsed.p if isinstance(parsed.p, dict) else {},
    )
