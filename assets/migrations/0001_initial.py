"""The Asset model moved here from `projects`. Its table keeps its name (`projects_asset`), so this
changes Django's picture of the models only; the database is untouched."""

import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import assets.models


def move_content_type(apps, schema_editor, old="projects", new="assets"):
    # Admin log entries and permissions point at the content type: keep them by renaming it.
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label=old, model="asset").update(app_label=new)


def move_content_type_back(apps, schema_editor):
    move_content_type(apps, schema_editor, old="assets", new="projects")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("projects", "0003_asset_hidden_at_asset_hidden_reason"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Asset",
                    fields=[
                        ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ("kind", models.CharField(choices=[("image", "Image"), ("video", "Video"), ("audio", "Audio")], max_length=10)),
                        ("origin", models.CharField(choices=[("upload", "Upload"), ("output", "Output")], default="upload", max_length=10)),
                        ("file", models.FileField(max_length=255, upload_to=assets.models.asset_storage_key)),
                        ("mime", models.CharField(max_length=100)),
                        ("size_bytes", models.BigIntegerField(default=0)),
                        ("sha256", models.CharField(db_index=True, max_length=64)),
                        ("width", models.PositiveIntegerField(blank=True, null=True)),
                        ("height", models.PositiveIntegerField(blank=True, null=True)),
                        ("duration_seconds", models.FloatField(blank=True, null=True)),
                        ("original_name", models.CharField(blank=True, help_text="Shown to users only; never a path.", max_length=255)),
                        ("provider", models.CharField(blank=True, help_text="Which provider made this output.", max_length=40)),
                        ("model", models.CharField(blank=True, max_length=100)),
                        ("meta", models.JSONField(blank=True, default=dict)),
                        ("hidden_at", models.DateTimeField(blank=True, null=True)),
                        ("hidden_reason", models.CharField(blank=True, max_length=500)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("created_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL)),
                        ("project", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="assets", to="projects.project")),
                    ],
                    options={"db_table": "projects_asset", "ordering": ["-created_at"]},
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, move_content_type_back, elidable=False),
    ]
