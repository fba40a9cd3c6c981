"""Character search over 100,000 synthetic 512-d faces: HNSW query time, and recall@10 against an
exact scan measured in the same run.

A library of one owner holds N characters, each a different person: a random unit vector (face
embeddings of different people are close to orthogonal, so this is the hard case for an index: the
10th-nearest neighbour is barely nearer than the 1000th). Each query is a new photo of one of them:
that person's vector plus noise, at cosine similarity about 0.7 to it, as ArcFace gives for two photos
of one face. Queries go through `characters.services.nearest_characters` (the code path of matching
and of "similar characters"); the exact answers come from the same query with index scans disabled.
The rows are loaded with COPY and the index is built after the load (reported too).

Run: .venv/bin/python -m bench.characters [--count 100000] [--queries 200]
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid

import numpy as np

from bench.common import machine, percentile, setup_django

setup_django()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from pgvector.psycopg import register_vector  # noqa: E402

from characters.models import EMBEDDING_DIMENSIONS, Character  # noqa: E402
from characters.services import nearest_characters, nearest_queryset  # noqa: E402

MODEL = "bench:synthetic"
INDEX = "character_embedding_hnsw"


def unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def load(owner, count: int, rng: np.random.Generator) -> np.ndarray:
    """COPY `count` characters of `owner` into the table, the index dropped meanwhile; their vectors."""
    vectors = unit(rng.standard_normal((count, EMBEDDING_DIMENSIONS), dtype=np.float32))
    if Character.objects.filter(owner=owner, embedding_model=MODEL).count() == count:
        print(f"reusing the {count} characters loaded by an earlier run (same seed, same vectors)")
        return vectors
    Character.objects.filter(owner=owner).delete()
    now = timezone.now()
    with connection.cursor() as cursor:
        definition = _index_definition(cursor)
        cursor.execute(f"DROP INDEX IF EXISTS {INDEX}")
        raw = cursor.connection
        register_vector(raw)
        columns = (
            "id, owner_id, name, embedding, embedding_model, det_score, sex, hidden_reason, created_at, updated_at"
        )
        started = time.perf_counter()
        with raw.cursor().copy(f"COPY characters_character ({columns}) FROM STDIN") as copy:
            for number, vector in enumerate(vectors):
                copy.write_row((uuid.uuid4(), owner.pk, f"Synthetic {number}", vector, MODEL, 0.9, "", "", now, now))
        print(f"loaded {count} characters in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        cursor.execute("SET maintenance_work_mem = '1GB'")
        cursor.execute(definition)
        cursor.execute("ANALYZE characters_character")
        print(f"built the HNSW index (m=16, ef_construction=64) in {time.perf_counter() - started:.1f} s")
    return vectors


def _index_definition(cursor) -> str:
    cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [INDEX])
    row = cursor.fetchone()
    if row is None:
        raise SystemExit(f"{INDEX} is missing: run the migrations on the benchmark database")
    return row[0]


def exact(owner, query: np.ndarray, k: int) -> list:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        return [c.pk for c in nearest_queryset(owner, query.tolist(), k, MODEL)]


def measure(owner, queries: np.ndarray, truth: list[list], k: int) -> tuple[list[float], float, float]:
    """Query times, recall@k against the exact answers, and how often the top hit is the exact top hit."""
    times, hits, firsts = [], 0, 0
    for query, expected in zip(queries, truth, strict=True):
        started = time.perf_counter()
        found = nearest_characters(owner, query.tolist(), k, MODEL)
        times.append(time.perf_counter() - started)
        hits += len({c.pk for c in found} & set(expected))
        firsts += bool(found) and found[0].pk == expected[0]
    return times, hits / (k * len(queries)), firsts / len(queries)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    print(f"machine: {machine()}")
    rng = np.random.default_rng(20261121)
    owner, _ = get_user_model().objects.get_or_create(username="bench-characters")
    vectors = load(owner, args.count, rng)

    people = rng.choice(args.count, size=args.queries, replace=False)
    noise = unit(rng.standard_normal((args.queries, EMBEDDING_DIMENSIONS), dtype=np.float32))
    queries = unit(0.7 * vectors[people] + 0.714 * noise)  # cosine ≈ 0.7 to the person's own vector
    print(f"query similarity to its person: median {statistics.median((queries * vectors[people]).sum(1)):.2f}")

    started = time.perf_counter()
    truth = [exact(owner, query, args.k) for query in queries]
    scan = (time.perf_counter() - started) / len(queries)
    print(f"exact scan: {scan * 1000:.0f} ms per query (mean of {len(queries)})")
    own = [Character.objects.get(owner=owner, name=f"Synthetic {person}").pk for person in people]
    found_self = sum(answer[0] == person for answer, person in zip(truth, own, strict=True))
    print(f"the exact top-1 is the query's own person for {found_self} of {len(queries)} queries")

    print("| hnsw.ef_search | p50 ms | p95 ms | recall@10 | top hit = the person |")
    print("|---|---|---|---|---|")
    for ef_search in (40, 100, 200):
        with connection.cursor() as cursor:
            cursor.execute(f"SET hnsw.ef_search = {ef_search}")
        measure(owner, queries[:20], truth[:20], args.k)  # warm the index's pages
        times, recall, first = measure(owner, queries, truth, args.k)
        p50, p95 = statistics.median(times), percentile(times, 0.95)
        print(f"| {ef_search} | {p50 * 1000:.2f} | {p95 * 1000:.2f} | {recall:.3f} | {first:.1%} |")
    with connection.cursor() as cursor:
        cursor.execute("RESET hnsw.ef_search")


if __name__ == "__main__":
    main()
