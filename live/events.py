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

from generation.models import Job, Run
from live.snapshot import (
    GraphSnapshot,
    RunState,
    edge_state,
    node_state,
    note_state,
    run_state,
    take_state,
)
from nodes.models import Edge, Node, Note, Take
from nodes.state import EdgeState, NodeState, NoteState, TakeState
from projects.models import Project

logger = logging.getLogger(__name__)


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


def username(user) -> str:
    """Who made an edit, as events name them ("" for no one: a system edit)."""
    return user.get_username() if user is not None else ""


def node_changed(kind: Literal["node.created", "node.updated"], node: Node, user) -> NodeChanged:
    job = Job.objects.filter(node=node, status__in=Job.ACTIVE, variation=1).first()
    return {"type": kind, "node": node_state(node, job), "by": username(user)}


def node_deleted(node_id: str, edge_ids: list[str], user) -> NodeDeleted:
    return {"type": "node.deleted", "node_id": node_id, "edge_ids": edge_ids, "by": username(user)}


def edge_created(edge: Edge, replaced: list[str], user) -> EdgeCreated:
    return {"type": "edge.created", "edge": edge_state(edge), "replaced": replaced, "by": username(user)}


def edge_deleted(edge_id: str, user) -> EdgeDeleted:
    return {"type": "edge.deleted", "edge_id": edge_id, "by": username(user)}


def edges_reordered(node: Node, port: str, edges: list[Edge], user) -> EdgesReordered:
    states = [edge_state(edge) for edge in edges]
    return {"type": "edges.reordered", "node_id": str(node.id), "port": port, "edges": states, "by": username(user)}


def note_changed(kind: Literal["note.created", "note.updated"], note: Note, user) -> NoteChanged:
    return {"type": kind, "note": note_state(note), "by": username(user)}


def note_deleted(note_id: str, user) -> NoteDeleted:
    return {"type": "note.deleted", "note_id": note_id, "by": username(user)}


def project_updated(project: Project) -> ProjectUpdated:
    return {"type": "project.updated", "project": {"id": str(project.id), "name": project.name}}


def member_changed(user_id: int, role: str) -> MemberChanged:
    return {"type": "member.changed", "user_id": user_id, "role": role}


def member_removed(user_id: int) -> MemberRemoved:
    return {"type": "member.removed", "user_id": user_id}


def presence(users: list[dict]) -> Presence:
    return {"type": "presence", "users": users}


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
