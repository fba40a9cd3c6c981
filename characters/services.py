import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import QuerySet
from pgvector.django import CosineDistance

from characters.models import Character
from config.errors import Unprocessable

# Advisory-lock namespace for "match or create a character" (per owner).
MATCH_LOCK = zlib.crc32(b"reelgraph.characters.match") & 0x7FFFFFFF


def nearest_queryset(
    owner, embedding: Sequence[float], k: int = 10, embedding_model: str | None = None, *, visible: bool = False
):
    """The owner's k characters closest to an embedding (cosine distance), closest first.

    `visible`: only those the owner sees (not hidden by a moderator). Matching a new photo includes
    hidden ones, so uploading the same face again does not bring a hidden character back.
    """
    characters: QuerySet[Character] = Character.objects.filter(owner=owner)
    if visible:
        characters = characters.filter(hidden_at__isnull=True)
    if embedding_model is not None:
        characters = characters.filter(embedding_model=embedding_model)
    # The rows' own 512 numbers are not needed here (parsing them was most of a query's time); an
    # instance that asks for its embedding later loads it then.
    nearest = characters.defer("embedding").annotate(distance=CosineDistance("embedding", list(embedding)))
    return nearest.order_by("distance")[:k]


def nearest_characters(
    owner, embedding: Sequence[float], k: int = 10, embedding_model: str | None = None, *, visible: bool = False
):
    # The HNSW index serves the ordering; with a filter (the owner) a plain index scan can stop
    # before k rows pass it. Iterative scans keep reading the index, in exact distance order.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL hnsw.iterative_scan = strict_order")
        return list(nearest_queryset(owner, embedding, k, embedding_model, visible=visible))


@dataclass(frozen=True)
class Match:
    character: Character
    created: bool
    # Cosine similarity to the character the face joined (None for a new character).
    similarity: float | None


def match_or_create(*, owner, project, face, source_asset, embedding_model: str, threshold: float) -> Match:
    """The owner's character for this face: the closest one at or above the threshold, or a new one."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            # One match at a time per owner, so two uploads of a new face cannot both create it.
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [MATCH_LOCK, owner.pk])
        nearest = nearest_characters(owner, face.embedding, k=1, embedding_model=embedding_model)
        similarity = 1 - nearest[0].distance if nearest else None
        if similarity is not None and similarity >= threshold:
            character, created = nearest[0], False
        else:
            count = Character.objects.filter(owner=owner).count()
            character = Character.objects.create(
                owner=owner,
                project=project,
                name=f"Character {count + 1}",
                embedding=list(face.embedding),
                embedding_model=embedding_model,
                det_score=face.det_score,
                age=face.age,
                sex=face.sex,
                source_asset=source_asset,
            )
            created, similarity = True, None
        character.reference_assets.add(source_asset)
    return Match(character, created, similarity)


def merge(source: Character, into: Character) -> Character:
    """Fold `source` into `into`: its photos become references of `into`, then it is deleted."""
    if source.pk == into.pk:
        raise Unprocessable("A character cannot be merged into itself.")
    if source.owner_id != into.owner_id:
        raise Unprocessable("Characters of different people cannot be merged.")
    if source.embedding_model != into.embedding_model:
        raise Unprocessable(
            f"{source.name} was made with another face model ({source.embedding_model}) than {into.name} "
            f"({into.embedding_model}): they cannot be compared, so they cannot be merged."
        )
    into.reference_assets.add(*source.reference_assets.all())
    if source.source_asset_id:
        into.reference_assets.add(source.source_asset_id)
    source.delete()
    return into
