"""The one definition of what a canvas is told about a node, its takes, its media and characters,
an edge and a note: the same shape in live events (live.events), in the snapshot a browser gets on
connect (live.snapshot), and in the API's answers (nodes/schemas.py names them for the OpenAPI
document). Values are JSON: ids and times are strings, documented with their formats."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field
from typing_extensions import TypedDict  # pydantic (the API schemas) needs this one on Python < 3.12

UuidText = Annotated[str, Field(json_schema_extra={"format": "uuid"})]
Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


class KeepOffer(TypedDict):
    """What a canceled node's card offers: the job whose video can be kept, and what it cost."""

    job_id: str
    provider: str
    cost: str


class TakeState(TypedDict):
    id: UuidText
    number: int
    outputs: dict[str, Any]
    details: dict[str, Any]
    provider: str
    model: str
    created_at: Timestamp


class MediaState(TypedDict):
    """What a canvas needs to show an output file: a short-lived URL, and who made it."""

    kind: str
    url: str | None  # None when a moderator hid the file
    hidden: str | None  # the moderator's reason, when hidden
    poster: str | None
    provider: str
    model: str
    width: int | None
    height: int | None
    duration: float | None


class CharacterState(TypedDict):
    name: str
    approximate: bool
    face: str | None  # URL of the photo the character came from
    hidden: str | None  # the moderator's reason, when hidden


class VariationState(TypedDict):
    """One take of a run that makes several (a node's `variations`), as its card shows them side by side."""

    variation: int
    job_id: UuidText
    status: Annotated[str, Field(description="Its job's status: waiting, queued, running, succeeded, failed...")]
    error: str
    label: Annotated[str, Field(description="What it is doing while under way (e.g. waiting for a free slot).")]
    take_id: UuidText | None
    take_number: int | None
    selected: bool
    media: MediaState | None  # its main output file (the video, picture or music), once made


class NodeState(TypedDict):
    id: UuidText
    type: str
    title: str
    x: float
    y: float
    params: dict[str, Any]
    status: str
    output: dict[str, Any]
    error: str
    version: int
    updated_at: Timestamp
    selected_take: TakeState | None
    job_id: UuidText | None
    progress: float
    progress_label: str
    media: dict[str, MediaState]
    characters: dict[str, CharacterState]
    outdated: Annotated[
        bool, Field(description="It has an output, but its settings or inputs changed since: a run redoes it.")
    ]
    keep: Annotated[
        KeepOffer | None,
        Field(description="Canceled after its submit: the paid video can still be kept (POST /jobs/{job}/keep)."),
    ]
    variations: Annotated[
        list[VariationState],
        Field(
            description="The takes of its latest run, when it made several: pick one with "
            "POST /projects/{project}/nodes/{node}/takes/{take}/select."
        ),
    ]


class EdgeState(TypedDict):
    id: UuidText
    source: UuidText
    source_port: str
    target: UuidText
    target_port: str
    order: int


class NoteState(TypedDict):
    id: UuidText
    text: str
    x: float
    y: float
    width: float
    height: float
    color: str
    version: int
    created_by: Annotated[str, Field(description="The username of who wrote it first.")]
    updated_at: Timestamp
