import numpy as np
import pytest
from django.db import connection, transaction

from characters.models import Character
from characters.services import nearest_characters, nearest_queryset

pytestmark = pytest.mark.django_db


@pytest.fixture
def characters(alice):
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(1000, 512)).astype(np.float32)
    Character.objects.bulk_create(
        Character(owner=alice, name=f"extra {i}", embedding=vector) for i, vector in enumerate(vectors)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE characters_character")
    return vectors


def test_the_nearest_character_query_uses_the_hnsw_index(alice, characters):
    query = characters[42] + 0.01

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL hnsw.iterative_scan = strict_order")
        plan = nearest_queryset(alice, query, k=5).explain()

    assert "Index Scan using character_embedding_hnsw" in plan
    assert "Seq Scan" not in plan


def test_the_nearest_character_is_the_one_with_the_closest_embedding(alice, bob, characters):
    Character.objects.create(owner=bob, name="bob's twin", embedding=characters[42])

    found = nearest_characters(alice, characters[42] * 1.5, k=3)

    assert found[0].name == "extra 42"
    assert found[0].distance == pytest.approx(0, abs=1e-5)
    assert all(c.owner_id == alice.id for c in found)
    assert [c.distance for c in found] == sorted(c.distance for c in found)
