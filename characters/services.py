import weakref
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import psycopg
from django.conf import settings
from django.db import connection, transaction
from pgvector import HalfVector
from pgvector.psycopg import register_vector

from characters.models import Character
from config.errors import Unprocessable

# Advisory-lock namespace for "match or create a character" (per owner).
MATCH_LOCK = zlib.crc32(b"reelgraph.characters.match") & 0x7FFFFFFF
# Database connections whose psycopg adapters know pgvector's type.
_with_vectors: weakref.WeakSet = weakref.WeakSet()
# The exact plan: the owner's rows found through a btree index (or read in full), every distance
# computed, sorted. The HNSW index is approximate, so it is kept out.
EXACT_PLAN = "SET LOCAL enable_indexscan = off; SET LOCAL enable_seqscan = on; SET LOCAL enable_bitmapscan = on"
# The index plan: above the exact-scan limit the HNSW index is the plan (said, not left to row
# estimates), read with an iterative scan so that the owner filter cannot leave fewer than k rows.
INDEX_PLAN = (
    "SET LOCAL enable_indexscan = on; SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; "
    "SET LOCAL hnsw.iterative_scan = strict_order; SET LOCAL hnsw.ef_search = {ef_search}"
)


# Every column of a character but its 512 numbers, which matching does not need (parsing them was
# most of a query's time); an instance that asks for its embedding later loads it then.
LOADED_FIELDS = [field for field in Character._meta.concrete_fields if field.attname != "embedding"]
LOADED_NAMES = [field.attname for field in LOADED_FIELDS]


def library_size(owner, embedding_model: str | None, *, at_most: int) -> int:
    """How many characters the owner has for this model, counted up to `at_most` (enough to choose a plan)."""
    characters = Character.objects.filter(owner=owner)
    if embedding_model is not None:
        characters = characters.filter(embedding_model=embedding_model)
    # Only indexed columns, and no ORDER BY (the model's default ordering by name would sort the whole
    # library first: 175 ms at 100k): an index-only scan of (owner, embedding_model), stopped at `at_most`.
    return characters.order_by().values("embedding_model")[:at_most].count()


def _nearest_sql(embedding_model: str | None, visible: bool, exact: bool) -> str:
    # In the index plan the filters are written so that no btree can serve them (`owner_id + 0`,
    # `embedding_model || ''`): the HNSW index is the one left. Otherwise the planner may prefer
    # reading and sorting the whole library through the owner's btree: exact, but slow when large.
    conditions = ["owner_id = %s" if exact else "owner_id + 0 = %s"]
    if embedding_model is not None:
        conditions.append("embedding_model = %s" if exact else "embedding_model || '' = %s")
    if visible:
        conditions.append("hidden_at IS NULL")
    # %b: the query vector travels in pgvector's binary format (1 KB), not as 512 numbers in text.
    # Only fixed fragments are joined into the text; every value is a parameter.
    columns = ", ".join(connection.ops.quote_name(field.column) for field in LOADED_FIELDS)
    return (
        f"SELECT {columns}, embedding <=> %b AS distance FROM {Character._meta.db_table} "  # noqa: S608
        f"WHERE {' AND '.join(conditions)} ORDER BY distance LIMIT %s"
    )


def nearest_rows(
    owner, embedding, k: int, embedding_model: str | None, *, visible: bool, exact: bool, explain: bool = False
) -> list[tuple]:
    """[(*the LOADED_FIELDS' values, cosine distance)], closest first (or, with `explain`, the plan's lines). Exact:
    every character of the owner (and model) is compared, found through a btree index; otherwise the
    HNSW index, read with an iterative scan so that the owner filter cannot leave fewer than k rows.
    Runs in the caller's transaction (its SET LOCALs end with it)."""
    connection.ensure_connection()
    raw = connection.connection
    if raw not in _with_vectors:
        register_vector(raw)  # one round trip to look up the type: once per connection
        _with_vectors.add(raw)
    params = [HalfVector(np.asarray(embedding, dtype=np.float32)), owner.pk]  # the column's type: halfvec
    params += [embedding_model] if embedding_model is not None else []
    with psycopg.Cursor(raw) as cursor:  # server-side binding: Django's own cursor binds on the client
        # Every planner setting either plan depends on, each time: in a savepoint (a test, or a match
        # inside a larger transaction) an earlier SET LOCAL of the other plan would still hold.
        cursor.execute(EXACT_PLAN if exact else INDEX_PLAN.format(ef_search=int(settings.CHARACTER_HNSW_EF_SEARCH)))
        cursor.execute(("EXPLAIN " if explain else "") + _nearest_sql(embedding_model, visible, exact), [*params, k])
        return cursor.fetchall()


def nearest_characters(
    owner, embedding: Sequence[float], k: int = 10, embedding_model: str | None = None, *, visible: bool = False
) -> list[Character]:
    """The owner's k characters closest to an embedding (cosine distance, on `.distance`), closest first.

    A library below CHARACTER_EXACT_SCAN_LIMIT (per owner and model: a person's library) is scanned
    exactly, which is always right (about 6 ms at 1k, 20-26 ms at 10k here: docs/BENCHMARKS.md); a
    larger one uses the HNSW index.
    `visible`: only those the owner sees (not hidden by a moderator). Matching a new photo includes
    hidden ones, so uploading the same face again does not bring a hidden character back.
    """
    limit = settings.CHARACTER_EXACT_SCAN_LIMIT
    with transaction.atomic():
        exact = library_size(owner, embedding_model, at_most=limit + 1) <= limit
        rows = nearest_rows(owner, embedding, k, embedding_model, visible=visible, exact=exact)
    characters = []
    for *values, distance in rows:
        character = Character.from_db(connection.alias, LOADED_NAMES, values)  # the embedding stays deferred
        character.distance = distance
        characters.append(character)
    return characters


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
