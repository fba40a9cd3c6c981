from datetime import datetime
from uuid import UUID

from ninja import Field, Schema

from assets.serving import signed_url
from characters.models import Character
from config.schemas import BodyIn, Id


class CharacterOut(Schema):
    id: UUID
    name: str
    age: int | None
    sex: str
    det_score: float
    face_model: str
    approximate: bool = Field(
        description="Made by the Haar fallback (offline, without the SFace files): same photo, not same person."
    )
    project: UUID | None
    source_asset: UUID | None
    face_url: str | None = Field(
        description="A short-lived URL of the face, cropped from the photo the character came from."
    )
    reference_assets: list[UUID]
    created_at: datetime

    @staticmethod
    def resolve_face_model(character: Character) -> str:
        return character.embedding_model

    @staticmethod
    def resolve_project(character: Character) -> UUID | None:
        return character.project_id

    @staticmethod
    def resolve_source_asset(character: Character) -> UUID | None:
        return character.source_asset_id

    @staticmethod
    def resolve_face_url(character: Character) -> str | None:
        return signed_url(character.face_picture)[0] if character.face_picture else None

    @staticmethod
    def resolve_reference_assets(character: Character) -> list[UUID]:
        return [asset.id for asset in character.reference_assets.all()]


class CharacterPatch(BodyIn):
    name: str = Field(min_length=1, max_length=120, pattern=r"\S")


class SimilarOut(Schema):
    character: CharacterOut
    similarity: float


class MergeIn(BodyIn):
    into: Id = Field(description="The character that stays; this one's photos join it.")
