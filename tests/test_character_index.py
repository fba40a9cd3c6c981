import numpy as np
import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from characters.models import Character
from characters.services import nearest_characters, nearest_rows

pytestmark = pytest.mark.django_db


def make_characters(owner, count, seed=7):
    vectors = np.random.default_rng(seed).normal(size=(count, 512)).astype(np.float32)
    Character.objects.bulk_create(
        Character(owner=owner, name=f"extra {i}", embedding=vector) for i, vector in enumerate(vectors)
    )
    return vectors


@pytest.fixture
def characters(alice):
    vectors = make_characters(alice, 1000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE characters_character")
    return vectors


def plan(owner, query, *, exact: bool) -> str:
    with transaction.atomic():
        return "\n".join(
            line for (line,) in nearest_rows(owner, query, 5, None, visible=False, exact=exact, explain=True)
        )


def test_a_large_library_is_searched_through_the_hnsw_index_and_a_small_one_exactly(alice, characters):
    query = characters[42] + 0.01

    assert "Index Scan using character_embedding_hnsw" in plan(alice, query, exact=False)
    assert "character_embedding_hnsw" not in plan(alice, query, exact=True)


@pytest.mark.parametrize("exact_scan_limit", [0, 10_000], ids=["hnsw", "exact"])
def test_the_nearest_character_is_the_one_with_the_closest_embedding(alice, bob, characters, exact_scan_limit):
    Character.objects.create(owner=bob, name="bob's twin", embedding=characters[42])

    with override_settings(CHARACTER_EXACT_SCAN_LIMIT=exact_scan_limit):
        found = nearest_characters(alice, characters[42] * 1.5, k=3)

    assert found[0].name == "extra 42"
    assert found[0].distance == pytest.approx(0, abs=1e-5)
    assert all(c.owner_id == alice.id for c in found)
    assert [c.distance for c in found] == sorted(c.distance for c in found)


def test_the_exact_scan_returns_exactly_the_k_nearest_by_cosine(alice, characters):
    query = np.random.default_rng(8).normal(size=512).astype(np.float32)
    unit = characters / np.linalg.norm(characters, axis=1, keepdims=True)
    expected = [f"extra {i}" for i in np.argsort(-(unit @ (query / np.linalg.norm(query))))[:10]]

    with override_settings(CHARACTER_EXACT_SCAN_LIMIT=10_000):
        found = nearest_characters(alice, query, k=10)

    assert [c.name for c in found] == expected


def test_embeddings_are_stored_in_the_row_not_out_of_line(characters):
    # Measured as growth: rows other tests wrote and rolled back may have left pages in the TOAST table.
    with connection.cursor() as cursor:
        toast_size = "SELECT pg_relation_size(reltoastrelid) FROM pg_class WHERE relname = 'characters_character'"
        cursor.execute(toast_size)
        (before,) = cursor.fetchone()
        cursor.execute(
            "SELECT attstorage FROM pg_attribute WHERE attrelid = 'characters_character'::regclass "
            "AND attname = 'embedding'"
        )
        (storage,) = cursor.fetchone()
        make_characters(Character.objects.first().owner, 1000, seed=8)
        cursor.execute(toast_size)
        (after,) = cursor.fetchone()

    assert storage == "p"  # PLAIN: never compressed, never moved out of line
    assert after == before  # 1,000 more embeddings of 2 KB, none of them in the TOAST table


def test_choosing_the_plan_counts_the_library_without_sorting_it(alice, characters):
    # The model's default ordering (by name) once made this count sort the whole library: 175 ms at 100k.
    with CaptureQueriesContext(connection) as queries, override_settings(CHARACTER_EXACT_SCAN_LIMIT=500):
        nearest_characters(alice, characters[0], k=1)

    counts = [query["sql"] for query in queries if "COUNT(" in query["sql"].upper()]
    assert len(counts) == 1 and "ORDER BY" not in counts[0].upper()
    assert "LIMIT 501" in counts[0].upper()  # stops at the limit: the library is not counted in full


def test_found_characters_carry_their_fields_and_load_the_embedding_only_when_asked(alice, characters):
    with override_settings(CHARACTER_EXACT_SCAN_LIMIT=10_000):
        (found,) = nearest_characters(alice, characters[7], k=1)
    stored = Character.objects.get(pk=found.pk)

    assert (found.name, found.owner_id, found.created_at, found.embedding_model) == (
        stored.name,
        stored.owner_id,
        stored.created_at,
        stored.embedding_model,
    )
    assert "embedding" in found.get_deferred_fields()
    # Stored in half precision: exactly the vector rounded to float16.
    assert np.array_equal(np.asarray(found.embedding, dtype=np.float16), characters[7].astype(np.float16))
