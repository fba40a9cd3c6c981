"""Embeddings stored in the row rather than out of line (TOAST): an exact scan of a library reads
one page per three characters instead of three pages per character (10k characters: 65 ms instead of
251 ms, docs/BENCHMARKS.md). Existing rows are rewritten so that they move into the row too."""

from django.db import migrations

TABLE = "characters_character"


class Migration(migrations.Migration):
    dependencies = [("characters", "0003_character_owner_model")]

    operations = [
        migrations.RunSQL(
            sql=[
                f"ALTER TABLE {TABLE} ALTER COLUMN embedding SET STORAGE PLAIN",
                # A new value (not the stored pointer) is what makes PostgreSQL store it anew, inline.
                f"UPDATE {TABLE} SET embedding = embedding::real[]::vector",
            ],
            reverse_sql=[f"ALTER TABLE {TABLE} ALTER COLUMN embedding SET STORAGE EXTERNAL"],
        )
    ]
