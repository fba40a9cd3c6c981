from datetime import datetime
from uuid import UUID

from ninja import Field, Schema


class CharacterOut(Schema):
    id: UUID
    name: str
    age: int | None
    sex: str
    det_score: float
    face_model: str
    approximate: bool = Field(description="Made by offline face detection: same photo, not same person.")
    project: UUID | None
    source_asset: UUID | None
    reference_assets: list[UUID]
    created_at: datetime


class CharacterPatch(Schema):
    name: str = Field(min_length=1, max_length=120, pattern=r"\S")


class SimilarOut(Schema):
    character: CharacterOut
    similarity: float
