"""Uploads: size checked first, the type told by the content (never the name), the file decoded
before it is kept. A user's file name is kept for display only."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.conf import settings
from PIL import Image, UnidentifiedImageError

from config.errors import ApiError
from generation import media, storage
from projects.models import Asset, Project


class TooLarge(ApiError):
    status = 413
    code = "too_large"


class UnsupportedMedia(ApiError):
    status = 415
    code = "unsupported_media_type"


ACCEPTED = "a PNG, JPEG or WebP image, an MP4, MOV or WebM video, or MP3, WAV, M4A, OGG or FLAC audio"


def sniff(head: bytes) -> tuple[str, str, str] | None:
    """(kind, mime, extension) from a file's first bytes, or None when it is nothing we take."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image", "image/png", ".png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image", "image/jpeg", ".jpg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image", "image/webp", ".webp"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"M4A ", b"M4B "):
            return "audio", "audio/mp4", ".m4a"
        if brand == b"qt  ":
            return "video", "video/quicktime", ".mov"
        return "video", "video/mp4", ".mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video", "video/webm", ".webm"
    if head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "audio", "audio/mpeg", ".mp3"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio", "audio/wav", ".wav"
    if head.startswith(b"OggS"):
        return "audio", "audio/ogg", ".ogg"
    if head.startswith(b"fLaC"):
        return "audio", "audio/flac", ".flac"
    return None


def store_upload(project: Project, upload, user, *, name: str | None = None) -> Asset:
    """Validate an uploaded file (anything with .size and .chunks()) and keep it as an Asset."""
    if upload.size > settings.MAX_UPLOAD_BYTES:
        raise TooLarge(
            f"The file is {upload.size / 1e6:.1f} MB; uploads are limited to {settings.MAX_UPLOAD_BYTES / 1e6:.0f} MB.",
            details={"limit_bytes": settings.MAX_UPLOAD_BYTES},
        )
    with tempfile.TemporaryDirectory(prefix="reelgraph-upload-") as scratch:
        raw = Path(scratch) / "upload"
        with raw.open("wb") as destination:
            for chunk in upload.chunks():
                destination.write(chunk)
        with raw.open("rb") as source:
            found = sniff(source.read(32))
        if found is None:
            raise UnsupportedMedia(f"This file is not something Reelgraph can use: upload {ACCEPTED}.")
        kind, _, extension = found
        path = raw.rename(raw.with_suffix(extension))
        _verify(path, kind)
        return storage.store_file(
            project,
            path,
            kind,
            origin=Asset.Origin.UPLOAD,
            original_name=Path(name if name is not None else upload.name or "").name[:255],
            created_by=user,
        )


def _verify(path: Path, kind: str) -> None:
    """Decode the file: a header that lies about its content is refused here, not in a worker."""
    try:
        if kind == "image":
            with Image.open(path) as image:
                image.verify()
            with Image.open(path) as image:
                image.load()
            return
        info = media.probe(path)
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError, media.MediaError) as error:
        raise UnsupportedMedia(f"The file could not be read as {kind}: upload {ACCEPTED}.") from error
    if (kind == "video" and not info.has_video) or (kind == "audio" and not info.has_audio):
        raise UnsupportedMedia(f"The file has no {kind} in it: upload {ACCEPTED}.")
