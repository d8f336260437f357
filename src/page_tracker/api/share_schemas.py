"""What ``/api/v1/sites/{id}/shares`` takes and answers."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, RootModel

from page_tracker.json_api import INTEGRAL, PlainText, UtcDatetime
from page_tracker.sites.shares import MAX_LABEL_LENGTH, State


class ShareCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: Annotated[PlainText, Field(max_length=MAX_LABEL_LENGTH)] = Field(
        default="", description="What the link is for (shown to the site's owners only)."
    )
    expires_in_days: Annotated[int, Field(ge=1, le=3650, strict=True), INTEGRAL] | None = Field(
        default=None,
        description="Days the link works; null: until revoked.",
    )


class ShareOut(BaseModel):
    id: int
    label: str
    prefix: str = Field(description="The link token's first characters, to recognise it.")
    created_at: UtcDatetime
    expires_at: UtcDatetime | None
    state: State


class ShareCreated(ShareOut):
    token: str = Field(description="The link's secret token: shown this once, never again.")
    url: str = Field(description="The read-only page the link opens.")


class ShareList(RootModel[list[ShareOut]]):
    pass
