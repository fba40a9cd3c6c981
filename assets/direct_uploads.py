"""Direct uploads to S3: the browser posts the file to the bucket with a presigned form, then we
check the object exactly as an upload through us would be checked, and keep it as an asset."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.files.storage import default_storage

from config.errors import ApiError

INCOMING = "projects/{project}/incoming/"


# Marks the operations that exist only with S3 storage: the OpenAPI document leaves them out without it.
NEEDS_S3 = {"x-storage": "s3"}


def available() -> bool:
    return hasattr(default_storage, "bucket_name")


def _s3():
    if not available():
        raise ApiError(
            "Direct uploads need S3 storage (set AWS_STORAGE_BUCKET_NAME); "
            "send the file to POST /api/v1/projects/{id}/assets instead.",
            code="direct_upload_unavailable",
            status=404,  # not a fault of the request: this deployment has no such address
        )
    return default_storage


def start(project) -> dict:
    storage = _s3()
    key = INCOMING.format(project=project.id) + uuid.uuid4().hex
    post = storage.connection.meta.client.generate_presigned_post(
        storage.bucket_name,
        storage._normalize_name(key),
        Conditions=[["content-length-range", 1, settings.MAX_UPLOAD_BYTES]],
        ExpiresIn=settings.SIGNED_URL_SECONDS,
    )
    expires_at = datetime.now(UTC) + timedelta(seconds=settings.SIGNED_URL_SECONDS)
    return {"key": key, "url": post["url"], "fields": post["fields"], "expires_at": expires_at}


def finish(project, key: str, name: str, user):
    from assets.uploads import store_upload

    storage = _s3()
    if not key.startswith(INCOMING.format(project=project.id)) or not storage.exists(key):
        raise ApiError("No upload with that key in this project.", code="not_found", status=404)
    try:
        with storage.open(key, "rb") as upload:
            return store_upload(project, upload, user, name=name)
    finally:
        storage.delete(key)
