from collections.abc import Sequence

from django.db import connection, transaction
from django.db.models import QuerySet
from pgvector.django import CosineDistance

from characters.models import Character


def nearest_queryset(owner, embedding: Sequence[float], k: int = 10) -> QuerySet[Character]:
    """The owner's k characters closest to an embedding (cosine distance), closest first."""
    return (
        Character.objects.filter(owner=owner)
        .annotate(distance=CosineDistance("embedding", list(embedding)))
        .order_by("distance")[:k]
    )


def nearest_characters(owner, embedding: Sequence[float], k: int = 10) -> list[Character]:
    # The HNSW index serves the ordering; with a filter (the owner) a plain index scan can stop
    # before k rows pass it. Iterative scans keep reading the index, in exact distance order.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL hnsw.iterative_scan = strict_order")
        return list(nearest_queryset(owner, embedding, k))
