"""Asset moved to the `assets` app with its table unchanged: the foreign keys change in Django's
picture only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("assets", "0001_initial"),
        ("characters", "0006_embedding_half_precision"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="character",
                    name="source_asset",
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="source_of_characters", to="assets.asset"),
                ),
                migrations.AlterField(
                    model_name="character",
                    name="face_asset",
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="assets.asset"),
                ),
                migrations.AlterField(
                    model_name="character",
                    name="reference_assets",
                    field=models.ManyToManyField(blank=True, related_name="reference_of_characters", to="assets.asset"),
                ),
            ],
            database_operations=[],
        ),
    ]
