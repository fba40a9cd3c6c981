"""Character search at library sizes of 1k, 10k and 100k: p50/p95 query time and recall@10 against
the exact answer, for the exact scan and for the HNSW index, on two data sets.

- random: each character a different person, a random 512-d unit vector. Random vectors are all
  nearly orthogonal, the worst case for a graph index: the floor.
- clustered: shaped like real face embeddings: people fall into groups (look-alikes: cosine about
  0.36 between two people of one group, as the closest strangers measured with SFace), and each
  person has several photos in the library (cosine about 0.72 between two photos of one person).

Each library belongs to its own owner; the queries are new photos of people in it (cosine about
0.7-0.8 to the person). Every query goes through `characters.services.nearest_characters` (the code
path of matching an upload and of "similar characters"), with CHARACTER_EXACT_SCAN_LIMIT set to force
the exact scan or the index. The exact scan's answers are the truth for recall. Rows are loaded with
COPY, the HNSW index dropped meanwhile and built after the load (its time is reported).

Run: .venv/bin/python -m bench.characters [--sizes 1000,10000,100000] [--datasets random,clustered]
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
from django.db import connection  # noqa: E402
from django.test import override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402
from pgvector.psycopg import register_vector  # noqa: E402

from characters.models import EMBEDDING_DIMENSIONS, Character  # noqa: E402
from characters.services import nearest_characters  # noqa: E402

MODEL = "bench:synthetic"
INDEX = "character_embedding_hnsw"
PHOTOS_PER_PERSON = 4
PEOPLE_PER_GROUP = 50
EXACT, INDEXED = 10**9, 0  # CHARACTER_EXACT_SCAN_LIMIT values that force each plan


def unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def mix(base: np.ndarray, cosine: float, rng: np.random.Generator) -> np.ndarray:
    """Unit vectors at about `cosine` to each of `base`'s rows."""
    noise = unit(rng.standard_normal(base.shape, dtype=np.float32))
    return unit(cosine * base + np.sqrt(1 - cosine**2) * noise)


def random_library(count: int, queries: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    vectors = unit(rng.standard_normal((count, EMBEDDING_DIMENSIONS), dtype=np.float32))
    return vectors, mix(vectors[rng.choice(count, size=queries, replace=False)], 0.7, rng)


def clustered_library(count: int, queries: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    people = count // PHOTOS_PER_PERSON
    groups = unit(rng.standard_normal((max(1, people // PEOPLE_PER_GROUP), EMBEDDING_DIMENSIONS), dtype=np.float32))
    persons = mix(groups[rng.integers(len(groups), size=people)], 0.6, rng)
    photos = mix(np.repeat(persons, PHOTOS_PER_PERSON, axis=0), 0.85, rng)
    return photos, mix(persons[rng.choice(people, size=queries, replace=False)], 0.8, rng)


DATASETS = {"random": random_library, "clustered": clustered_library}


def load(owner, vectors: np.ndarray) -> bool:
    """COPY the library into the table (unless an earlier run did); True when rows were added."""
    if Character.objects.filter(owner=owner, embedding_model=MODEL).count() == len(vectors):
        return False
    Character.objects.filter(owner=owner).delete()
    now = timezone.now()
    with connection.cursor() as cursor:
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
    print(f"loaded {len(vectors)} characters of {owner.username} in {time.perf_counter() - started:.1f} s")
    return True


def ensure_index(definition: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [INDEX])
        if cursor.fetchone():
            return
        started = time.perf_counter()
        cursor.execute("SET maintenance_work_mem = '1GB'")
        cursor.execute(definition)
        # VACUUM as autovacuum would after a load: the visibility map lets counting a library be an
        # index-only scan, as on any table that has settled.
        cursor.execute("VACUUM ANALYZE characters_character")
        cursor.execute("SELECT count(*) FROM characters_character")
        (rows,) = cursor.fetchone()
    print(f"built the HNSW index over {rows} rows in {time.perf_counter() - started:.1f} s")


def index_definition() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [INDEX])
        row = cursor.fetchone()
    if row is None:
        raise SystemExit(f"{INDEX} is missing: run the migrations on the benchmark database")
    return row[0]


def search(owner, queries: np.ndarray, k: int, *, limit: int, ef_search: int = 100) -> tuple[list, list[float]]:
    answers, times = [], []
    with override_settings(CHARACTER_EXACT_SCAN_LIMIT=limit, CHARACTER_HNSW_EF_SEARCH=ef_search):
        nearest_characters(owner, queries[0], k, MODEL)  # warm the connection and the pages
        for query in queries:
            started = time.perf_counter()
            found = nearest_characters(owner, query, k, MODEL)
            times.append(time.perf_counter() - started)
            answers.append([c.pk for c in found])
    return answers, times


def row(label: str, times: list[float], answers: list, truth: list, k: int) -> str:
    recall = sum(len(set(a) & set(t)) for a, t in zip(answers, truth, strict=True)) / (k * len(truth))
    p50, p95 = statistics.median(times) * 1000, percentile(times, 0.95) * 1000
    return f"{label} | {p50:.2f} | {p95:.2f} | {recall:.3f} |"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--datasets", default="random,clustered")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    print(f"machine: {machine()}")
    definition = index_definition()
    libraries = []
    for dataset in args.datasets.split(","):
        for size in (int(size) for size in args.sizes.split(",")):
            rng = np.random.default_rng(size)
            vectors, queries = DATASETS[dataset](size, args.queries, rng)
            owner, _ = get_user_model().objects.get_or_create(username=f"bench-{dataset}-{size}")
            load(owner, vectors)
            libraries.append((dataset, size, owner, queries))
    ensure_index(definition)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE characters_character")

    print("| data | library | plan | p50 ms | p95 ms | recall@10 |")
    print("|---|---|---|---|---|---|")
    for dataset, size, owner, queries in libraries:
        truth, exact_times = search(owner, queries, args.k, limit=EXACT)
        print(row(f"| {dataset} | {size:,} | exact scan", exact_times, truth, truth, args.k))
        for ef_search in (40, 100, 200):
            answers, times = search(owner, queries, args.k, limit=INDEXED, ef_search=ef_search)
            print(row(f"| {dataset} | {size:,} | HNSW, ef_search {ef_search}", times, answers, truth, args.k))


if __name__ == "__main__":
    main()
