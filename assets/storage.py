"""Files in and out of storage: produced files become Assets; Assets become local paths to work on."""

from __future__ import annotations

import hashlib
import mimetypes
import shutil
from pathlib import Path

from django.core.files import File

from assets import media
from assets.models import Asset
from projects.models import Project

CHUNK = 1024 * 1024
MIME_BY_KIND = {"image": "image/png", "video": "video/mp4", "audio": "audio/mpeg"}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def store_file(
    project: Project,
    path: Path,
    kind: str,
    *,
    origin: str = Asset.Origin.OUTPUT,
    provider: str = "",
    model: str = "",
    meta: dict | None = None,
    created_by=None,
    original_name: str = "",
) -> Asset:
    """Store a local file as an Asset of the project, with its hash, size and media facts."""
    mime = mimetypes.guess_type(path.name)[0] or MIME_BY_KIND[kind]
    facts: dict = {}
    if kind == "image":
        facts["width"], facts["height"] = media.image_size(path)
    else:
        info = media.probe(path)
        facts = {"width": info.width, "height": info.height, "duration_seconds": info.duration}
    with path.open("rb") as stream:
        return create_asset(
            project,
            File(stream, name=path.name),
            kind=kind,
            mime=mime,
            sha256=sha256_of(path),
            size_bytes=path.stat().st_size,
            origin=origin,
            provider=provider,
            model=model,
            meta=meta or {},
            created_by=created_by,
            original_name=original_name,
            **facts,
        )


def local_path(asset: Asset, workdir: Path) -> Path:
    """A path on this machine with the asset's bytes: the file itself on disk storage, a copy otherwise."""
    try:
        return Path(asset.file.path)
    except NotImplementedError:  # remote storage (S3) has no local path
        extension = Path(asset.file.name).suffix
        target = workdir / f"{asset.id}{extension}"
        if not target.exists():
            with asset.file.open("rb") as source, target.open("wb") as copy:
                shutil.copyfileobj(source, copy, CHUNK)
        return target


def copy_asset(asset: Asset, project: Project, user=None) -> Asset:
    """The same file, as an asset of another project (files never cross projects by reference)."""
    with asset.file.open("rb") as source:
        return create_asset(
            project,
            File(source, name=Path(asset.file.name).name),
            kind=asset.kind,
            mime=asset.mime,
            sha256=asset.sha256,
            size_bytes=asset.size_bytes,
            width=asset.width,
            height=asset.height,
            duration_seconds=asset.duration_seconds,
            origin=Asset.Origin.UPLOAD,
            original_name=asset.original_name,
            provider=asset.provider,
            model=asset.model,
            created_by=user,
        )


def create_asset(project: Project, content, **fields) -> Asset:
    """Save a file as an Asset. The storage key comes from the asset's id and type (see asset_storage_key)."""
    asset = Asset(project=project, **fields)
    asset.file.save(content.name, content, save=False)
    asset.save()
    return asset
