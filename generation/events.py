"""Every event sent to browsers, and the one way to send them.

Events carry full snapshots (a node's whole state, a run's whole plan) rather than deltas,
because channel messages are not durable: a browser that missed one converges with the next, or
with the snapshot it gets on (re)connect. The database stays the truth.
"""

from __future__ import annotations

import logging
from typing import Any, Literal, TypedDict
from uuid import UUID

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from generation.models import Job, Run
from nodes.models import Edge, Node, Take
from nodes.services import node_fields
from projects.models import Project

logger = logging.getLogger(__name__)


class TakeState(TypedDict):
    id: str
    number: int
    outputs: dict[str, Any]
    provider: str
    model: str
    created_at: str


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


class GraphSnapshot(TypedDict):
    type: Literal["graph.snapshot"]
    project: dict[str, str]
    nodes: list[NodeState]
    edges: list[EdgeState]
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


class ProjectUpdated(TypedDict):
    type: Literal["project.updated"]
    project: dict[str, str]


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
    | ProjectUpdated
    | MemberRemoved
)


def group_name(project_id: UUID | str) -> str:
    return f"project.{project_id}"


def take_state(take: Take) -> TakeState:
    return {
        "id": str(take.id),
        "number": take.number,
        "outputs": take.outputs,
        "provider": take.provider,
        "model": take.model,
        "created_at": take.created_at.isoformat(),
    }


def node_state(node: Node, job: Job | None = None) -> NodeState:
    take = node.selected_take
    return {
        **node_fields(node),
        "output": node.output,
        "error": node.error_message,
        "selected_take": take_state(take) if take else None,
        "job_id": str(job.id) if job else None,
        "progress": job.progress if job else 0.0,
        "progress_label": job.progress_label if job else "",
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
    return {
        "type": "graph.snapshot",
        "project": {"id": str(project.id), "name": project.name},
        "nodes": [node_state(n, active_jobs.get(n.id)) for n in project.nodes.select_related("selected_take")],
        "edges": [edge_state(edge) for edge in project.edges.all()],
        "runs": [run_state(run) for run in project.runs.filter(status=Run.Status.RUNNING)],
    }


def node_status(node: Node, job: Job | None = None) -> NodeStatus:
    return {"type": "node.status", "node": node_state(node, job)}


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
