"""Optimistic concurrency for canvas objects (nodes, notes): an edit names the version it saw."""

from __future__ import annotations

from typing import Any

from django.db.models import F, QuerySet
from django.utils import timezone


def update_if_current(objects: QuerySet, pk, version: int, fields: dict[str, Any]):
    """Apply `fields` in one conditional UPDATE if the row is still at `version`.
    Returns (whether it applied, the row as it is now)."""
    updated = objects.filter(pk=pk, version=version).update(
        **fields, version=F("version") + 1, updated_at=timezone.now()
    )
    return bool(updated), objects.get(pk=pk)


def stale_message(thing: str, current: int, sent: int) -> str:
    return (
        f"Someone else changed this {thing} (now version {current}, you sent {sent}): "
        "reload it and apply your change again."
    )
