"""Sticky notes on a project's canvas: plain writes with the same optimistic versioning as nodes."""

from __future__ import annotations

from typing import Any

from config.errors import Conflict
from nodes.models import Note
from nodes.versioning import stale_message, update_if_current


class NoteVersionConflict(Conflict):
    code = "version_conflict"


def note_fields(note: Note) -> dict[str, Any]:
    return {
        "id": str(note.id),
        "text": note.text,
        "x": note.x,
        "y": note.y,
        "width": note.width,
        "height": note.height,
        "color": note.color,
        "version": note.version,
        "created_by": note.created_by.get_username() if note.created_by else "",
        "updated_at": note.updated_at.isoformat(),
    }


def add_note(project, user, **fields) -> Note:
    return Note.objects.create(project=project, created_by=user, **fields)


def update_note(note: Note, version: int, changes: dict[str, Any]) -> Note:
    """Apply the changes if the caller saw the current version; otherwise a 409 with the current note."""
    fields = {key: value for key, value in changes.items() if value is not None}
    updated, current = update_if_current(Note.objects.select_related("created_by"), note.pk, version, fields)
    if not updated:
        raise NoteVersionConflict(
            stale_message("note", current.version, version), details={"note": note_fields(current)}
        )
    return current
