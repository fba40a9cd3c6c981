"""Uploads: size checked first, the type told by the content (never the name), markup refused,
the file decoded and limited in pixels and length, then rewritten clean before it is kept: images
re-encoded upright without EXIF, GPS, XMP or comments; videos and audio remuxed without metadata.
Whatever was hidden beside the media (a polyglot's other half) is not copied. A user's file name
is kept for display only; storage paths are made of ids."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError

from assets import media, storage
from assets.models import Asset
from config.errors import ApiError
from projects.models import Project


class TooLarge(ApiError):
    status = 413
    code = "too_large"


class UnsupportedMedia(ApiError):
    status = 415
    code = "unsupported_media_type"


# What a browser would take for a web page (it sniffs the first bytes): refused even behind a media header.
MARKUP = re.compile(rb"<(?:!doctype|html|head|body|script|svg|iframe|object|embed|meta|\?xml)[\s>/]", re.IGNORECASE)
SNIFFED_BYTES = 4096
IMAGE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".webp": "WEBP"}

ACCEPTED = "a PNG, JPEG or WebP image, an MP4, MOV or WebM video, or MP3, WAV, M4A, OGG or FLAC audio"
IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp")
MEDIA_TYPES = (
    *IMAGE_TYPES,
    *("video/mp4", "video/quicktime", "video/webm"),
    *("audio/mpeg", "audio/wav", "audio/mp4", "audio/ogg", "audio/flac"),
)


def file_field_openapi(content_types: tuple[str, ...]) -> dict:
    """What the OpenAPI document says of a multipart `file` field: not empty (an empty part is no
    file), and the types taken. The server reads the type from the content, whatever the part's
    Content-Type says: anything else is a 415."""
    form = {
        "schema": {"properties": {"file": {"minLength": 1}}},
        "encoding": {"file": {"contentType": ", ".join(content_types)}},
    }
    return {"requestBody": {"content": {"multipart/form-data": form}}}


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


def megabytes(size: int) -> str:
    """A size in MB of 2**20 bytes (as the README's 200 MB default is), rounded down so that a limit
    is never said to be larger than it is: 1.5 MB, 200 MB, 0.95 MB."""
    return f"{int(size / 2**20 * 100) / 100:g} MB"


def store_upload(project: Project, upload, user, *, name: str | None = None) -> Asset:
    """Validate an uploaded file (anything with .size and .chunks()) and keep it as an Asset."""
    if upload.size > settings.MAX_UPLOAD_BYTES:
        raise TooLarge(
            f"The file is {megabytes(upload.size)}; uploads are limited to {megabytes(settings.MAX_UPLOAD_BYTES)} "
            f"({settings.MAX_UPLOAD_BYTES:,} bytes): make it smaller and upload it again.",
            details={"limit_bytes": settings.MAX_UPLOAD_BYTES},
        )
    with tempfile.TemporaryDirectory(prefix="reelgraph-upload-") as scratch:
        raw = Path(scratch) / "upload"
        with raw.open("wb") as destination:
            for chunk in upload.chunks():
                destination.write(chunk)
        with raw.open("rb") as source:
            head = source.read(SNIFFED_BYTES)
        if MARKUP.search(head):
            raise UnsupportedMedia(
                f"This file contains a web page or SVG markup, which Reelgraph never stores: upload {ACCEPTED}."
            )
        found = sniff(head)
        if found is None:
            raise UnsupportedMedia(f"This file is not something Reelgraph can use: upload {ACCEPTED}.")
        kind, _, extension = found
        path = raw.rename(raw.with_suffix(extension))
        clean = Path(scratch) / f"clean{extension}"
        if kind == "image":
            _clean_image(path, clean)
        else:
            _clean_media(path, clean, kind)
        return storage.store_file(
            project,
            clean,
            kind,
            origin=Asset.Origin.UPLOAD,
            original_name=Path(name if name is not None else upload.name or "").name[:255],
            created_by=user,
        )


def _clean_image(path: Path, out: Path) -> None:
    """Refuse images over the pixel limit before decoding them; decode the rest in full and save
    the pixels upright (EXIF orientation applied) with nothing else but the colour profile."""
    try:
        with Image.open(path) as image:
            _check_pixels(*image.size)
            image.verify()
        with Image.open(path) as image:
            image.load()
            upright = ImageOps.exif_transpose(image)
            options: dict = {"icc_profile": image.info["icc_profile"]} if image.info.get("icc_profile") else {}
            # Pillow writes some of what it read (a JPEG comment, EXIF) back out: keep what draws the pixels.
            upright.info = {key: value for key, value in upright.info.items() if key == "transparency"}
    except Image.DecompressionBombError as error:  # Pillow's own guard, before the size can be read
        limit = settings.MAX_IMAGE_PIXELS
        raise TooLarge(
            f"The image has far more pixels than the limit of {limit:,} ({limit / 1e6:g} megapixels): "
            "make it smaller and upload it again.",
            details={"limit_pixels": limit},
        ) from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise UnsupportedMedia(f"The file could not be read as an image: upload {ACCEPTED}.") from error
    image_format = IMAGE_FORMATS[out.suffix]
    if image_format != "PNG":
        options["quality"] = 95
        if upright.mode not in ("RGB", "L") and image_format == "JPEG":
            upright = upright.convert("RGB")
    upright.save(out, image_format, **options)


def _check_pixels(width: int, height: int) -> None:
    limit = settings.MAX_IMAGE_PIXELS
    if width * height > limit:
        raise TooLarge(
            f"The image is {width}x{height} pixels ({width * height / 1e6:.0f} megapixels); "
            f"images are limited to {limit / 1e6:g} megapixels ({limit:,} pixels): "
            "make it smaller and upload it again.",
            details={"limit_pixels": limit},
        )


def _clean_media(path: Path, out: Path, kind: str) -> None:
    """Probe a video or audio file within the limits, then copy its streams into a fresh container."""
    try:
        _check_media(media.probe(path), kind)
        media.remux_without_metadata(path, out, kind)
    except media.MediaError as error:
        raise UnsupportedMedia(f"The file could not be read as {kind}: upload {ACCEPTED}.") from error


def _check_media(info: media.MediaInfo, kind: str) -> None:
    if (kind == "video" and not info.has_video) or (kind == "audio" and not info.has_audio):
        raise UnsupportedMedia(f"The file has no {kind} in it: upload {ACCEPTED}.")
    if info.duration > settings.MAX_UPLOAD_SECONDS:
        raise TooLarge(
            f"The {kind} lasts {info.duration / 60:.1f} minutes; uploads are limited to "
            f"{settings.MAX_UPLOAD_SECONDS / 60:.0f} minutes: trim it and upload it again.",
            details={"limit_seconds": settings.MAX_UPLOAD_SECONDS},
        )
    if kind == "video":
        longest = settings.MAX_VIDEO_DIMENSION
        if max(info.width or 0, info.height or 0) > longest:
            raise TooLarge(
                f"The video is {info.width}x{info.height}; videos are limited to {longest} pixels a side "
                "(4K): scale it down and upload it again.",
                details={"limit_dimension": longest},
            )
        _check_pixels(info.width or 0, info.height or 0)
