"""What ``POST /api/v1/sites/{id}/hits`` takes and answers (server-side ingest)."""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from page_tracker.errors import PayloadTooLarge
from page_tracker.ingest.server import MAX_HITS, ServerHit

# A batch of MAX_HITS hits with long URLs and User-Agents fits (about 4 KB a hit).
MAX_BATCH_BODY = 4 * 1024 * 1024


class HitIn(BaseModel):
    """One reader's page view. Text is cleaned as a browser's hit is (control characters
    removed, lone surrogates replaced) and judged alike; the reader's IP and User-Agent
    are used for the visitor hash and enrichment only, never stored."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        description="The page's absolute http(s) URL, on one of the site's allowed hosts.",
        examples=["https://example.com/blog/post?utm_source=news"],
    )
    ip: str = Field(description="The reader's IPv4 or IPv6 address.", examples=["203.0.113.7"])
    user_agent: str = Field(
        description="The reader's User-Agent header.",
        examples=["Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"],
    )
    timestamp: AwareDatetime | None = Field(
        default=None,
        description="When the reader saw the page (RFC 3339 with a zone); default: now. "
        "Only today's views (UTC) are counted, up to 5 minutes ahead of the server's clock.",
    )
    referrer: str | None = Field(default=None, description="The reader's Referer header.")
    title: str | None = None
    screen: str | None = Field(default=None, examples=["390x844"])
    event: str | None = Field(default=None, description="A custom event name (1-100 chars).")
    dnt: bool = Field(
        default=False, description="The reader sent DNT: 1 or Sec-GPC: 1 (honoured per site)."
    )

    def to_hit(self) -> ServerHit:
        return ServerHit(**self.model_dump())


class HitBatch(BaseModel):
    """One hit, or a batch of up to 1 000, judged each on its own."""

    model_config = ConfigDict(extra="forbid")

    hits: list[HitIn] = Field(min_length=1, max_length=MAX_HITS)

    @model_validator(mode="before")
    @classmethod
    def _at_most_max_hits(cls, data: Any) -> Any:
        # Too many hits is a 413 (too large), not a 400: refused before any is read.
        hits = data.get("hits") if isinstance(data, dict) else None
        if isinstance(hits, list) and len(hits) > MAX_HITS:
            raise PayloadTooLarge(
                f"a batch has at most {MAX_HITS} hits", details={"max_hits": MAX_HITS}
            )
        return data


class HitVerdict(BaseModel):
    accepted: bool = Field(description="Stored: counted (in Redis mode once flushed).")
    reason: str = Field(
        description="accepted, or why not: malformed, unknown-site, host-not-allowed, dnt, "
        "bot, rate-limited, timestamp-too-old, timestamp-in-future, store-unavailable, "
        "rejected (as X-Page-Tracker-Reason of a browser's hit).",
        examples=["accepted"],
    )
    detail: str | None = Field(default=None, description="What was wrong, when known.")


class HitBatchResult(BaseModel):
    accepted: int = Field(description="How many hits were stored.")
    rejected: int
    verdicts: list[HitVerdict] = Field(description="One per hit, in the order sent.")
