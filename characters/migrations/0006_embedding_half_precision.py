"""Embeddings in half precision (halfvec): a character's row is 1.5 KB instead of 2.6 KB, so an exact
scan of a library and the HNSW index read about half the pages (docs/BENCHMARKS.md). A cosine
similarity moves by about 0.001, far inside any face model's "same person" margin. The HNSW index is
rebuilt for the new type; the column stays stored in the row (PLAIN), as 0004 made it."""

import pgvector.django.halfvec
import pgvector.django.indexes
from django.db import migrations

TABLE = "characters_character"


class Migration(migrations.Migration):
    dependencies = [("characters", "0005_character_face_asset")]

    operations = [
        migrations.RemoveIndex(model_name="character", name="character_embedding_hnsw"),
        migrations.AlterField(
            model_name="character",
            name="embedding",
            field=pgvector.django.halfvec.HalfVectorField(dimensions=512),
        ),
        migrations.RunSQL(
            sql=f"ALTER TABLE {TABLE} ALTER COLUMN embedding SET STORAGE PLAIN",
            reverse_sql=f"ALTER TABLE {TABLE} ALTER COLUMN embedding SET STORAGE PLAIN",
        ),
        migrations.AddIndex(
            model_name="character",
            index=pgvector.django.indexes.HnswIndex(
                ef_construction=64,
                fields=["embedding"],
                m=16,
                name="character_embedding_hnsw",
                opclasses=["halfvec_cosine_ops"],
            ),
        ),
    ]
