"""Every event sent to browsers, and the one way to send them.

Events carry full snapshots (a node's whole state, not a delta) because channel
messages are not durable: a browser that missed one converges with the next, or
with the snapshot it gets on (re)connect. The database stays the truth.
"""

from __future__ import annotations

import logging
from typing import Any, Literal, TypedDict
from uuid import UUID

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from generation.models import Job
from nodes.models import Edge, Node
from projects.models import Project

logger = logging.getLogger(__name__)


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


class GraphSnapshot(TypedDict):
    type: Literal["graph.snapshot"]
    project: dict[str, str]
    nodes: list[NodeState]
    edges: list[EdgeState]


class NodeUpdated(TypedDict):
    type: Literal["node.updated"]
    node: NodeState


Event = GraphSnapshot | NodeUpdated


def group_name(project_id: UUID | str) -> str:
    return f"project.{project_id}"


def node_state(node: Node, job: Job | None = None) -> NodeState:
    return {
        "id": str(node.id),
        "type": node.type,
        "title": node.title,
        "x": node.x,
        "y": node.y,
        "params": node.params,
        "status": node.status,
        "output": node.output,
        "error": node.error_message,
        "version": node.version,
        "updated_at": node.updated_at.isoformat(),
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


def graph_snapshot(project: Project) -> GraphSnapshot:
    active_jobs = {
        job.node_id: job
        for job in Job.objects.filter(project=project, status__in=Job.ACTIVE).order_by("created_at")
    }
    return {
        "type": "graph.snapshot",
        "project": {"id": str(project.id), "name": project.name},
        "nodes": [node_state(node, active_jobs.get(node.id)) for node in project.nodes.all()],
        "edges": [edge_state(edge) for edge in project.edges.all()],
    }


def node_updated(node: Node, job: Job | None = None) -> NodeUpdated:
    return {"type": "node.updated", "node": node_state(node, job)}


def broadcast(project_id: UUID | str, event: Event) -> None:
    """Send an event to every open canvas of the project once the current transaction commits."""
    transaction.on_commit(lambda: send(project_id, event))


def send(project_id: UUID | str, event: Event) -> None:
    # A lost event costs a browser one refresh; a failed send must never fail the work that caused it.
    try:
        async_to_sync(get_channel_layer().group_send)(
            group_name(project_id), {"type": "project.event", "event": event}
        )
    except Exception:
        logger.warning("could not send %s to project %s", event["type"], project_id, exc_info=True)
