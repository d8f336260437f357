"""What the sites and users endpoints take and answer; the OpenAPI schemas too."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, RootModel

from page_tracker.json_api import PlainText, UtcDatetime
from page_tracker.users.models import MAX_EMAIL_LENGTH, MAX_NAME_LENGTH, MemberRole, Role
from page_tracker.users.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
Host = Annotated[
    str,
    Field(
        min_length=1,
        max_length=253,
        pattern=rf"^{_LABEL}(?:\.{_LABEL})*$",
        examples=["example.com"],
    ),
]
# The accounts the API creates have printable ASCII addresses (the services take more).
_ADDRESS = r"[!-?A-~]+"  # printable ASCII without "@"
Email = Annotated[
    str,
    Field(
        min_length=3,
        max_length=MAX_EMAIL_LENGTH,
        pattern=rf"^{_ADDRESS}@{_ADDRESS}\.{_ADDRESS}$",
        examples=["ada@example.com"],
    ),
]
Name = Annotated[PlainText, Field(max_length=MAX_NAME_LENGTH)]
NewPassword = Annotated[str, Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)]
RetentionDays = Annotated[int, Field(ge=0, le=36_500, description="0: keep no raw hits")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SiteCreate(_Strict):
    domain: Host
    hosts: list[Host] = Field(default=[], max_length=100, description="Extra allowed hosts.")
    public_counters: bool = False
    honour_dnt: bool = True
    retention_days: RetentionDays = 0
    sharing: bool = Field(default=False, description="Whether public share links work.")


class SiteUpdate(_Strict):
    """Only what is given changes; ``hosts`` replaces the extra hosts."""

    hosts: list[Host] | None = Field(default=None, max_length=100)
    public_counters: bool | None = None
    honour_dnt: bool | None = None
    retention_days: RetentionDays | None = None
    sharing: bool | None = None


class SiteOut(BaseModel):
    id: str = Field(description="The public site id used in snippets.")
    domain: str
    hosts: list[str] = Field(description="Extra allowed hosts.")
    allowed_hosts: list[str]
    public_counters: bool
    honour_dnt: bool
    retention_days: int
    sharing: bool = Field(description="Whether the site's public share links work.")
    created_at: UtcDatetime
    role: MemberRole | None = Field(description="Your role on the site (admins: maybe none).")


class SiteList(RootModel[list[SiteOut]]):
    pass


class MemberIn(_Strict):
    email: Email
    role: MemberRole = MemberRole.VIEWER


class MemberOut(BaseModel):
    user_id: int
    email: str
    name: str
    role: MemberRole


class MemberList(RootModel[list[MemberOut]]):
    pass


class UserCreate(_Strict):
    email: Email
    password: NewPassword
    name: Name = ""
    role: Role = Role.USER


class UserReplace(_Strict):
    """PUT: email, name and role as given; the password only when given."""

    email: Email
    name: Name
    role: Role
    password: NewPassword | None = None


class UserUpdate(_Strict):
    email: Email | None = None
    name: Name | None = None
    role: Role | None = None
    password: NewPassword | None = None


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    role: Role
    created_at: UtcDatetime


class UserList(RootModel[list[UserOut]]):
    pass
