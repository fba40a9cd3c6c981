"""Every event sent to browsers, and the one way to send them.

Events carry full snapshots (a node's whole state, a run's whole plan) rather than deltas,
because channel messages are not durable: a browser that missed one converges with the next, or
with the snapshot it gets on (re)connect. The database stays the truth.
"""

from __future__ import annotations

import logging
from typing import Any, Literal
from uuid import UUID

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from typing_extensions import TypedDict  # pydantic (the API schemas) needs this one on Python < 3.12

from assets.models import Asset
from assets.serving import signed_url
from characters.models import Character
from generation.keepable import KeepOffer, offer
from generation.models import Job, Run
from nodes.models import Edge, Node, Note, Take
from nodes.notes import note_fields
from nodes.registry import NODE_TYPES
from nodes.services import node_fields
from projects.models import Project

logger = logging.getLogger(__name__)


class TakeState(TypedDict):
    id: str
    number: int
    outputs: dict[str, Any]
    details: dict[str, Any]
    provider: str
    model: str
    created_at: str


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


class NodeState(TypedDict):
    id: str
    type: str
    title: str
    x: float
    y: float
    params: dict[str, Any]
    status: str
    output: dict[str, Any]
    error: str
    version: int
    updated_at: str
    selected_take: TakeState | None
    job_id: str | None
    progress: float
    progress_label: str
    media: dict[str, MediaState]
    characters: dict[str, CharacterState]
    outdated: bool  # it has an output, but its settings or inputs changed since: a run would redo it
    keep: KeepOffer | None  # canceled after its submit: its paid video can still be kept


class EdgeState(TypedDict):
    id: str
    source: str
    source_port: str
    target: str
    target_port: str
    order: int


class RunState(TypedDict):
    id: str
    status: str
    targets: list[str]
    plan: list[dict[str, Any]]
    cost_estimate: str
    created_at: str
    finished_at: str | None


class NoteState(TypedDict):
    id: str
    text: str
    x: float
    y: float
    width: float
    height: float
    color: str
    version: int
    created_by: str
    updated_at: str


class GraphSnapshot(TypedDict):
    type: Literal["graph.snapshot"]
    project: dict[str, str]
    nodes: list[NodeState]
    edges: list[EdgeState]
    notes: list[NoteState]
    runs: list[RunState]


class RunPlanned(TypedDict):
    type: Literal["run.planned"]
    run: RunState


class RunFinished(TypedDict):
    type: Literal["run.finished"]
    run: RunState


class NodeStatus(TypedDict):
    type: Literal["node.status"]
    node: NodeState


class NodeProgress(TypedDict):
    type: Literal["node.progress"]
    node_id: str
    job_id: str
    progress: float
    label: str


class NodeOutput(TypedDict):
    type: Literal["node.output"]
    node: NodeState
    take: TakeState


class JobError(TypedDict):
    type: Literal["job.error"]
    job_id: str
    node_id: str
    run_id: str
    code: str
    message: str
    retrying: bool
    attempt: int


class NodeChanged(TypedDict):
    """A node was created or edited (params, title, position)."""

    type: Literal["node.created", "node.updated"]
    node: NodeState
    by: str


class NodeDeleted(TypedDict):
    type: Literal["node.deleted"]
    node_id: str
    edge_ids: list[str]
    by: str


class EdgeCreated(TypedDict):
    type: Literal["edge.created"]
    edge: EdgeState
    replaced: list[str]
    by: str


class EdgeDeleted(TypedDict):
    type: Literal["edge.deleted"]
    edge_id: str
    by: str


class EdgesReordered(TypedDict):
    """The clips of a multi-valued input (a Stitch's) in their new order."""

    type: Literal["edges.reordered"]
    node_id: str
    port: str
    edges: list[EdgeState]
    by: str


class NoteChanged(TypedDict):
    type: Literal["note.created", "note.updated"]
    note: NoteState
    by: str


class NoteDeleted(TypedDict):
    type: Literal["note.deleted"]
    note_id: str
    by: str


class ProjectUpdated(TypedDict):
    type: Literal["project.updated"]
    project: dict[str, str]


class Presence(TypedDict):
    """Who has the project open: sent whenever someone opens or closes it."""

    type: Literal["presence"]
    users: list[dict[str, Any]]


class MemberChanged(TypedDict):
    """A member's role changed: their open canvases reload to show what the new role allows."""

    type: Literal["member.changed"]
    user_id: int
    role: str


class MemberRemoved(TypedDict):
    """Sent so that the removed member's open canvases close at once."""

    type: Literal["member.removed"]
    user_id: int


Event = (
    GraphSnapshot
    | RunPlanned
    | RunFinished
    | NodeStatus
    | NodeProgress
    | NodeOutput
    | JobError
    | NodeChanged
    | NodeDeleted
    | EdgeCreated
    | EdgeDeleted
    | EdgesReordered
    | NoteChanged
    | NoteDeleted
    | ProjectUpdated
    | MemberChanged
    | MemberRemoved
    | Presence
)


def group_name(project_id: UUID | str) -> str:
    return f"project.{project_id}"


def take_state(take: Take) -> TakeState:
    return {
        "id": str(take.id),
        "number": take.number,
        "outputs": take.outputs,
        "details": {key: value for key, value in take.details.items() if key != "wiring"},
        "provider": take.provider,
        "model": take.model,
        "created_at": take.created_at.isoformat(),
    }


def output_ids(type_name: str, outputs: dict) -> tuple[set[str], set[str]]:
    """The asset and character ids in the outputs of a node of this type (or one of its takes),
    by the kinds of its ports."""
    assets, characters = set(), set()
    node_type = NODE_TYPES.get(type_name)
    for port in node_type.outputs if node_type else ():
        value = outputs.get(port.name)
        if value and port.kind in ("image", "video", "audio"):
            assets.add(str(value))
        elif value and port.kind == "character":
            characters.add(str(value))
    return assets, characters


def _output_ids(nodes) -> tuple[set[str], set[str]]:
    """The asset and character ids in the current outputs of these nodes."""
    assets, characters = set(), set()
    for node in nodes:
        node_assets, node_characters = output_ids(node.type, node.output)
        assets |= node_assets
        characters |= node_characters
    return assets, characters


def output_media(nodes) -> tuple[dict[str, MediaState], dict[str, CharacterState]]:
    """Signed URLs for every file the nodes output (and the posters of videos), in two queries."""
    asset_ids, character_ids = _output_ids(nodes)
    if not asset_ids and not character_ids:
        return {}, {}  # most nodes before their first run: no queries at all
    found = {
        str(c.id): c
        for c in Character.objects.filter(pk__in=character_ids).select_related("source_asset", "face_asset")
    }
    posters = {a.meta.get("poster") for a in Asset.objects.filter(pk__in=asset_ids) if a.meta.get("poster")}
    assets = {str(a.id): a for a in Asset.objects.filter(pk__in=asset_ids | posters | _faces(found))}
    url = {asset_id: signed_url(asset)[0] for asset_id, asset in assets.items() if asset.hidden_at is None}
    media: dict[str, MediaState] = {
        asset_id: {
            "kind": assets[asset_id].kind,
            "url": url.get(asset_id),
            "hidden": assets[asset_id].hidden_reason if assets[asset_id].hidden_at else None,
            "poster": url.get(assets[asset_id].meta.get("poster", "")),
            "provider": assets[asset_id].provider,
            "model": assets[asset_id].model,
            "width": assets[asset_id].width,
            "height": assets[asset_id].height,
            "duration": assets[asset_id].duration_seconds,
        }
        for asset_id in asset_ids
        if asset_id in assets
    }
    characters: dict[str, CharacterState] = {
        character_id: {
            "name": "Hidden character" if character.hidden_at else character.name,
            "approximate": character.approximate,
            "face": None if character.hidden_at else url.get(str(_face_id(character))),
            "hidden": character.hidden_reason if character.hidden_at else None,
        }
        for character_id, character in found.items()
    }
    return media, characters


def _faces(characters) -> set[str]:
    return {str(_face_id(c)) for c in characters.values() if _face_id(c)}


def _face_id(character: Character):
    return character.face_asset_id or character.source_asset_id


def outdated_ids(project_id) -> set[str]:
    from generation.planning import outdated_node_ids  # the planner sends events itself

    return outdated_node_ids(Project.objects.get(pk=project_id))


def node_state(node: Node, job: Job | None = None, media=None, outdated: set[str] | None = None) -> NodeState:
    """`outdated`: the ids of the project's outdated nodes, when the caller has them (one plan for many nodes)."""
    take = node.selected_take
    if outdated is None:
        outdated = outdated_ids(node.project_id) if take is not None else set()
    files, characters = media if media is not None else output_media([node])
    asset_ids, character_ids = _output_ids([node])
    return {
        **node_fields(node),
        "output": node.output,
        "error": node.error_message,
        "selected_take": take_state(take) if take else None,
        "job_id": str(job.id) if job else None,
        "progress": job.progress if job else 0.0,
        "progress_label": job.progress_label if job else "",
        "media": {key: value for key, value in files.items() if key in asset_ids},
        "characters": {key: value for key, value in characters.items() if key in character_ids},
        "outdated": str(node.id) in outdated,
        "keep": offer(node),
    }


def edge_state(edge: Edge) -> EdgeState:
    return {
        "id": str(edge.id),
        "source": str(edge.source_id),
        "source_port": edge.source_port,
        "target": str(edge.target_id),
        "target_port": edge.target_port,
        "order": edge.order,
    }


def note_state(note: Note) -> NoteState:
    return note_fields(note)


def run_state(run: Run) -> RunState:
    return {
        "id": str(run.id),
        "status": run.status,
        "targets": run.targets,
        "plan": run.plan,
        "cost_estimate": str(run.cost_estimate),
        "created_at": run.created_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }


def graph_snapshot(project: Project) -> GraphSnapshot:
    active_jobs = {job.node_id: job for job in Job.objects.filter(project=project, status__in=Job.ACTIVE)}
    nodes = list(project.nodes.select_related("selected_take"))
    media = output_media(nodes)
    outdated = outdated_ids(project.id)
    return {
        "type": "graph.snapshot",
        "project": {"id": str(project.id), "name": project.name},
        "nodes": [node_state(n, active_jobs.get(n.id), media, outdated) for n in nodes],
        "edges": [edge_state(edge) for edge in project.edges.all()],
        "notes": [note_state(note) for note in project.notes.select_related("created_by")],
        "runs": [run_state(run) for run in project.runs.filter(status=Run.Status.RUNNING)],
    }


def node_status(node: Node, job: Job | None = None, outdated: set[str] | None = None) -> NodeStatus:
    return {"type": "node.status", "node": node_state(node, job, outdated=outdated)}


def node_progress(job: Job) -> NodeProgress:
    return {
        "type": "node.progress",
        "node_id": str(job.node_id),
        "job_id": str(job.id),
        "progress": job.progress,
        "label": job.progress_label,
    }


def node_output(node: Node, take: Take) -> NodeOutput:
    return {"type": "node.output", "node": node_state(node), "take": take_state(take)}


def job_error(job: Job, *, retrying: bool) -> JobError:
    return {
        "type": "job.error",
        "job_id": str(job.id),
        "node_id": str(job.node_id),
        "run_id": str(job.run_id),
        "code": job.error_code,
        "message": job.error_message,
        "retrying": retrying,
        "attempt": job.attempts,
    }


def run_planned(run: Run) -> RunPlanned:
    return {"type": "run.planned", "run": run_state(run)}


def run_finished(run: Run) -> RunFinished:
    return {"type": "run.finished", "run": run_state(run)}


def broadcast(project_id: UUID | str, event: Event) -> None:
    """Send an event to every open canvas of the project once the current transaction commits."""
    transaction.on_commit(lambda: send(project_id, event))


def send(project_id: UUID | str, event: Event) -> None:
    # A lost event costs a browser one refresh; a failed send must never fail the work that caused it.
    try:
        async_to_sync(get_channel_layer().group_send)(group_name(project_id), {"type": "project.event", "event": event})
    except Exception:
        logger.warning("could not send %s to project %s", event["type"], project_id, exc_info=True)


CONSTRUCTORS = {
    "node_status": node_status,
    "node_progress": node_progress,
    "node_output": node_output,
    "job_error": job_error,
    "run_planned": run_planned,
    "run_finished": run_finished,
}


def broadcast_announcement(sender: str, project_id, args, kwargs, **_) -> None:
    """What the engine announced (generation.announce), as an event for every open canvas, on commit."""
    broadcast(project_id, CONSTRUCTORS[sender](*args, **kwargs))
