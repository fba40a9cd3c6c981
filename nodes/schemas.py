from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from ninja import Field, Schema

from config.schemas import BodyIn, Id
from nodes.registry import NODE_TYPES
from nodes.state import EdgeState, NodeState, NoteState

# The registered node types, as an enum in the OpenAPI document: an unknown one is a 422 on `type`.
NodeTypeName = Literal[tuple(NODE_TYPES)]
COORDINATE = Field(default=0.0, ge=-1_000_000, le=1_000_000, allow_inf_nan=False)
PORT = Field(min_length=1, max_length=32)


class PortOut(Schema):
    name: str
    kind: str
    required: bool
    multi: bool
    max_items: int | None
    label: str


class NodeTypeOut(Schema):
    name: str
    label: str
    description: str
    version: int
    queue: str
    inputs: list[PortOut]
    outputs: list[PortOut]
    params_schema: dict[str, Any]


class TakeOut(Schema):
    id: UUID
    number: int
    outputs: dict[str, Any]
    params: dict[str, Any]
    details: dict[str, Any]
    provider: str
    model: str
    created_at: datetime
    selected: bool = False


class NodeOut(NodeState):
    """A node as the canvas shows it: the same shape as in the live events."""


class EdgeOut(EdgeState):
    """A connection from an output port to an input port."""


class ProjectRef(Schema):
    id: UUID
    name: str


class NoteOut(NoteState):
    """A sticky note on the canvas."""


NoteColor = Literal["yellow", "blue", "green", "pink"]
NOTE_SIZE = Field(default=None, ge=40, le=4000, allow_inf_nan=False)


class NoteIn(BodyIn):
    text: str = Field(default="", max_length=5000)
    x: float = COORDINATE
    y: float = COORDINATE
    width: float = Field(default=220, ge=40, le=4000, allow_inf_nan=False)
    height: float = Field(default=160, ge=40, le=4000, allow_inf_nan=False)
    color: NoteColor = "yellow"


class NotePatch(BodyIn):
    version: int = Field(ge=1, description="The version you last saw; a stale one is refused with 409.")
    text: str | None = Field(default=None, max_length=5000)
    x: float | None = Field(default=None, ge=-1_000_000, le=1_000_000, allow_inf_nan=False)
    y: float | None = Field(default=None, ge=-1_000_000, le=1_000_000, allow_inf_nan=False)
    width: float | None = NOTE_SIZE
    height: float | None = NOTE_SIZE
    color: NoteColor | None = None


class GraphOut(Schema):
    project: ProjectRef
    nodes: list[NodeOut]
    edges: list[EdgeOut]
    notes: list[NoteOut]


class NodeIn(BodyIn):
    type: NodeTypeName
    title: str = Field(default="", max_length=120)
    x: float = COORDINATE
    y: float = COORDINATE
    params: dict[str, Any] = Field(default_factory=dict)


class NodePatch(BodyIn):
    version: int = Field(ge=1, description="The version you last saw; a stale one is refused with 409.")
    title: str | None = Field(default=None, max_length=120)
    x: float | None = Field(default=None, ge=-1_000_000, le=1_000_000, allow_inf_nan=False)
    y: float | None = Field(default=None, ge=-1_000_000, le=1_000_000, allow_inf_nan=False)
    params: dict[str, Any] | None = Field(default=None, description="Merged into the node's params.")


class EdgeIn(BodyIn):
    source: Id
    source_port: str = PORT
    target: Id
    target_port: str = PORT
    order: int | None = Field(default=None, ge=0, le=10_000)
    replace: bool = Field(default=False, description="Replace the connection already in a single input.")


class InputOrderIn(BodyIn):
    edges: list[Id] = Field(max_length=1000, description="Every edge into the port, exactly once, in the new order.")


class DocumentNode(BodyIn):
    key: str = Field(min_length=1, max_length=64)
    type: NodeTypeName
    title: str = Field(default="", max_length=120)
    x: float = COORDINATE
    y: float = COORDINATE
    params: dict[str, Any] = Field(default_factory=dict)


class DocumentEdge(BodyIn):
    source: str = Field(min_length=1, max_length=64)
    source_port: str = PORT
    target: str = Field(min_length=1, max_length=64)
    target_port: str = PORT
    order: int = Field(default=0, ge=0, le=10_000)


class GraphDocument(BodyIn):
    format: Literal["reelgraph.graph"] = "reelgraph.graph"
    version: Literal[1] = 1
    nodes: list[DocumentNode] = Field(max_length=2000)
    edges: list[DocumentEdge] = Field(max_length=10_000)


class ImportOut(Schema):
    nodes: int
    edges: int
    ids: dict[str, UUID]
    warnings: list[str]


class KeptNode(Schema):
    id: UUID
    title: str
    why: str


class ExpansionOut(Schema):
    """What expanding a storyboard did, enough to undo it in one step."""

    created: list[UUID] = Field(description="Nodes made (their edges with them).")
    updated: list[UUID] = Field(description="Nodes of earlier expansions given the edited shots' settings.")
    restored: list[dict] = Field(description="Each updated node's params before (`id`, `params`), to undo it.")
    deleted: list[dict] = Field(description="Unchanged nodes of shots that are gone, as they were, to undo it.")
    kept: list[KeptNode] = Field(description="Nodes left as they are because you changed them, and why.")
    edges: list[UUID] = Field(description="Connections made between nodes that were already there.")
    frame: UUID = Field(description="The note drawn around the expanded nodes.")
    frame_created: bool = Field(description="Whether this expansion drew the note (undoing it removes the note).")
    film: UUID = Field(description="The Stitch node that cuts the shots into the film: run it to make the film.")


class ReportIn(BodyIn):
    reason: str = Field(min_length=1, max_length=2000, description="What is wrong with this output.")


class ReportOut(Schema):
    id: UUID
    status: str
    assets: list[UUID] = Field(description="The files now in the moderation queue.")
