"""What is counted: :class:`PageView`, an accepted and enriched hit (it holds no IP
address)."""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class PageView:
    """An accepted, enriched hit, ready to count.

    ``visitor`` is the daily-salted visitor hash (16 bytes); ``lifetime_visitor`` is stable
    across days (all-time uniques). ``timestamp`` is an aware UTC datetime.
    """

    site_id: str
    path: str
    hostname: str
    timestamp: datetime
    visitor: bytes
    lifetime_visitor: bytes
    title: str | None = None
    event: str | None = None
    source: str = "api"
    keep_raw: bool = False  # the site keeps raw hits (retention_days is set)
    browser: str = "Other"
    browser_version: str = ""
    os: str = "Other"
    os_version: str = ""
    device: str = "other"
    referrer_host: str | None = None
    referrer_source: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_term: str | None = None
    utm_content: str | None = None
    country: str | None = None
    screen_class: str | None = None

    @property
    def day(self) -> date:
        return self.timestamp.date()

    @property
    def hour(self) -> datetime:
        return self.timestamp.replace(minute=0, second=0, microsecond=0, tzinfo=None)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (bytes as base64, timestamp as ISO 8601); see :meth:`from_dict`."""
        data = asdict(self)
        data["timestamp"] = self.timestamp.isoformat()
        data["visitor"] = base64.b64encode(self.visitor).decode()
        data["lifetime_visitor"] = base64.b64encode(self.lifetime_visitor).decode()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PageView:
        known = {field.name for field in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        values["timestamp"] = datetime.fromisoformat(values["timestamp"])
        values["visitor"] = base64.b64decode(values["visitor"])
        values["lifetime_visitor"] = base64.b64decode(values["lifetime_visitor"])
        return cls(**values)
