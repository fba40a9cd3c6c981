"""What a refused request must leave as it was: every row a request could write, and the files in storage.

    before = snapshot()
    response = viewer.delete(...)          # refused
    assert changes_since(before) == {}     # names each table (or "files") that changed, with both states

The rows are read whole (every column but vectors), so a refusal that saved a field it was told not to,
or only touched `updated_at`, shows here too.
"""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.files.storage import FileSystemStorage, default_storage

from assets.models import Asset
from characters.models import Character
from generation.models import AuditEntry, Job, Report, Run
from nodes.models import Edge, Node, Note, Take
from projects.models import Membership, Project

# Not ApiToken: every request with a token notes when it was last used, refused or not.
WATCHED = (
    *(get_user_model(), Project, Membership, Asset, Character),
    *(Node, Edge, Note, Take),
    *(Run, Job, Report, AuditEntry),
    *(Character.reference_assets.through, Report.assets.through),  # the photos merged in, the files reported
)


def _columns(model) -> list[str]:
    # A vector compares element-wise (no single True/False); whether it changed is not a refusal's question.
    return [f.attname for f in model._meta.concrete_fields if "Vector" not in f.get_internal_type()]


def stored_files() -> list[str]:
    """The keys of every stored file: under the media root, or in the bucket when a test stores in S3."""
    if not isinstance(default_storage, FileSystemStorage):
        return sorted(stored.key for stored in default_storage.bucket.objects.all())
    root = Path(default_storage.location)
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def snapshot() -> dict[str, list]:
    state = {model.__name__: list(model.objects.order_by("pk").values(*_columns(model))) for model in WATCHED}
    state["files"] = stored_files()
    return state


def changes_since(before: dict[str, list]) -> dict[str, tuple[list, list]]:
    """Each part of `before` that is no longer so, as (before, now); {} when nothing changed."""
    now = snapshot()
    return {part: (before[part], now[part]) for part in before if before[part] != now[part]}
