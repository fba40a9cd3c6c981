"""Every stored file of a project: uploads and generated outputs. The table keeps its first name
(`projects_asset`): the model moved here from `projects` without touching the database."""

import mimetypes
import uuid

from django.conf import settings
from django.db import models

from projects.models import Project


def asset_storage_key(asset: "Asset", filename: str) -> str:
    # The key comes from the asset's id and sniffed type only: a user's file name never reaches storage.
    extension = mimetypes.guess_extension(asset.mime) or ""
    return f"projects/{asset.project_id}/assets/{asset.id}{extension}"


class Asset(models.Model):
    """Every stored file: uploads and generated outputs."""

    class Kind(models.TextChoices):
        IMAGE = "image"
        VIDEO = "video"
        AUDIO = "audio"

    class Origin(models.TextChoices):
        UPLOAD = "upload"
        OUTPUT = "output"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="assets")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.UPLOAD)
    file = models.FileField(upload_to=asset_storage_key, max_length=255)
    mime = models.CharField(max_length=100)
    size_bytes = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, db_index=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    original_name = models.CharField(max_length=255, blank=True, help_text="Shown to users only; never a path.")
    provider = models.CharField(max_length=40, blank=True, help_text="Which provider made this output.")
    model = models.CharField(max_length=100, blank=True)
    meta = models.JSONField(default=dict, blank=True)
    # Hidden by a moderator: no longer served, shown to its owner as hidden with the reason.
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_reason = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "projects_asset"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.original_name or self.id}"
