from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from ninja import Field, Schema

from config.schemas import BodyIn


class ProjectIn(BodyIn):
    name: str = Field(min_length=1, max_length=120, pattern=r"\S")


class ProjectPatch(BodyIn):
    name: str = Field(min_length=1, max_length=120, pattern=r"\S")


class ProjectOut(Schema):
    id: UUID
    name: str
    owner: str
    role: str
    created_at: datetime
    updated_at: datetime


class MemberIn(BodyIn):
    username: str = Field(min_length=1, max_length=150)
    role: Literal["editor", "viewer"]


class MemberPatch(BodyIn):
    role: Literal["editor", "viewer"]


class MemberOut(Schema):
    user_id: int
    username: str
    role: str
    created_at: datetime


class AssetOut(Schema):
    id: UUID
    kind: str
    origin: str
    mime: str
    size_bytes: int
    sha256: str
    width: int | None
    height: int | None
    duration_seconds: float | None
    original_name: str
    provider: str
    model: str
    meta: dict[str, Any]
    hidden_at: datetime | None = Field(description="When a moderator hid it; its bytes are no longer served.")
    hidden_reason: str
    created_at: datetime


class AssetUrlOut(Schema):
    url: str
    expires_at: datetime


class DirectUploadIn(BodyIn):
    name: str = Field(default="", max_length=255)


class DirectUploadOut(Schema):
    key: str
    url: str
    fields: dict[str, str]
    expires_at: datetime


class DirectUploadDone(BodyIn):
    key: str = Field(min_length=1, max_length=255)
    name: str = Field(default="", max_length=255)


class TokenIn(BodyIn):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=1024)
    name: str = Field(min_length=1, max_length=100)


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="The token itself. Keep it: it is shown this once.")
