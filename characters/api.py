"""The character library: the user's characters, similar ones, and search by photo."""

import tempfile
from pathlib import Path
from uuid import UUID

from django.shortcuts import get_object_or_404
from ninja import File, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from actions import editing
from assets.uploads import IMAGE_TYPES, TooLarge, UnsupportedMedia, file_field_openapi, sniff
from characters.models import Character
from characters.schemas import CharacterOut, CharacterPatch, MergeIn, SimilarOut
from characters.services import nearest_characters
from config.errors import NotFound, Unprocessable
from config.pagination import Pages
from config.schemas import errors
from generation.context import embedding_model
from providers import face_provider

router = Router(tags=["characters"])


def _mine(request):
    return Character.objects.library_of(request.auth)


@router.get("/characters", response={200: list[CharacterOut], **errors()})
@paginate(Pages)
def characters(request, project: UUID | None = None):
    mine = _mine(request)
    return (mine.filter(project_id=project) if project else mine).order_by("name")


@router.post(
    "/characters/search",
    response={200: list[SimilarOut], **errors(413, 415)},
    openapi_extra=file_field_openapi(IMAGE_TYPES),
)
def search(request, file: UploadedFile = File(...), k: int = 5):
    """Upload a photo: the characters closest to its largest face, most similar first."""
    if file.size > 20 * 1024 * 1024:
        raise TooLarge("Search photos are limited to 20 MB.")
    head = file.read(32)
    file.seek(0)
    found = sniff(head)
    if found is None or found[0] != "image":
        raise UnsupportedMedia("Search with a PNG, JPEG or WebP photo of a face.")
    provider = face_provider()
    with tempfile.TemporaryDirectory() as scratch:
        photo = Path(scratch) / f"search{found[2]}"
        photo.write_bytes(file.read())
        faces = provider.analyze(photo).faces
    if not faces:
        raise Unprocessable("No face found in this photo.", code="no_face")
    face = max(faces, key=lambda f: f.area)
    k = max(1, min(k, 50))
    matches = nearest_characters(
        request.auth, face.embedding, k=k, embedding_model=embedding_model(provider), visible=True
    )
    return [{"character": c, "similarity": round(1 - c.distance, 4)} for c in matches]


@router.get("/characters/{character_id}", response={200: CharacterOut, **errors(404)})
def read(request, character_id: UUID):
    return get_object_or_404(_mine(request), pk=character_id)


@router.patch("/characters/{character_id}", response={200: CharacterOut, **errors(404)})
def rename(request, character_id: UUID, payload: CharacterPatch):
    character = get_object_or_404(_mine(request), pk=character_id)
    character.name = payload.name.strip()
    character.save(update_fields=["name", "updated_at"])
    return character


@router.delete("/characters/{character_id}", response={204: None, **errors(404)})
def delete(request, character_id: UUID):
    get_object_or_404(_mine(request), pk=character_id).delete()
    return Status(204, None)


@router.get("/characters/{character_id}/similar", response={200: list[SimilarOut], **errors(404)})
def similar(request, character_id: UUID, k: int = 5):
    """The user's characters closest to this one (same face model), most similar first."""
    character = get_object_or_404(_mine(request), pk=character_id)
    k = max(1, min(k, 50))
    found = nearest_characters(
        request.auth, character.embedding, k=k + 1, embedding_model=character.embedding_model, visible=True
    )
    return [
        {"character": other, "similarity": round(1 - other.distance, 4)}
        for other in found
        if other.pk != character.pk
    ][:k]


@router.post("/characters/{character_id}/merge", response={200: CharacterOut, **errors(404)})
def merge(request, character_id: UUID, payload: MergeIn):
    """Merge this character into another of yours (the same person found twice): one remains."""
    source = get_object_or_404(_mine(request), pk=character_id)
    into = _mine(request).filter(pk=payload.into).first()
    if into is None:
        raise NotFound(f"You have no character {payload.into} (`into`).", field="into")
    return editing.merge_characters(source, into)
