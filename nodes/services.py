"""Edits to a project's graph. Every write checks what the graph engine would refuse later."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max
from pydantic import ValidationError

from config.errors import ApiError, Conflict, Unprocessable
from nodes.graph import Graph, GraphEdge, GraphNode
from nodes.models import Edge, Node, Take
from nodes.registry import NODE_TYPES, get_node_type
from nodes.versioning import stale_message, update_if_current

DOCUMENT_FORMAT = "reelgraph.graph"
DOCUMENT_VERSION = 1


class StaleVersion(Conflict):
    code = "stale_version"


class EdgeRefused(Unprocessable):
    code = "edge_refused"


class GoneMeanwhile(ApiError):
    status = 404
    code = "not_found"


def lock_graph(project_id) -> None:
    """Serialise writes to one project's graph on its row (as run planning does): the checks of
    one write (a free port, no loop, the next order) and its change are never interleaved with
    another's. Call inside the write's transaction; the lock is held until it commits.

    FOR NO KEY UPDATE, not FOR UPDATE: writers still wait for each other, but a commit elsewhere of a row
    that refers to the project (a worker's job, take or asset; PostgreSQL checks the key at commit with
    a key-share lock) does not wait for the writer, which could be waiting for that worker's node."""
    from projects.models import Project

    Project.objects.select_for_update(no_key=True).filter(pk=project_id).values_list("pk", flat=True).first()


def current(model, instance, what: str):
    """`instance` as it is now, read again under the graph's lock: gone meanwhile is a 404."""
    found = model.objects.filter(pk=instance.pk).first()
    if found is None:
        raise GoneMeanwhile(f"That {what} was deleted a moment ago (by someone else?): reload the graph.")
    return found


def load_graph(project) -> Graph:
    """The project's whole graph as plain data, in two queries."""
    nodes = [
        GraphNode(id=str(node.id), type=node.type, params=node.params, title=node.title)
        for node in Node.objects.filter(project=project).only("id", "type", "params", "title")
    ]
    edges = [
        GraphEdge(
            id=str(edge.id),
            source=str(edge.source_id),
            source_port=edge.source_port,
            target=str(edge.target_id),
            target_port=edge.target_port,
            order=edge.order,
        )
        for edge in Edge.objects.filter(project=project)
    ]
    return Graph(nodes, edges)


def node_fields(node: Node) -> dict[str, Any]:
    return {
        "id": str(node.id),
        "type": node.type,
        "title": node.title,
        "x": node.x,
        "y": node.y,
        "params": node.params,
        "status": node.status,
        "version": node.version,
        "updated_at": node.updated_at.isoformat(),
    }


def validated_params(node_type: str, params: dict[str, Any]) -> dict[str, Any]:
    """Params as the node type's schema accepts them; every wrong field named in the error."""
    if node_type not in NODE_TYPES:
        raise Unprocessable(
            f"Unknown node type {node_type!r}: choose one of {', '.join(NODE_TYPES)}.",
            details={"fields": [{"field": "type", "message": "unknown node type"}]},
        )
    try:
        parsed = get_node_type(node_type).Params.model_validate(params)
    except ValidationError as error:
        fields = [
            {"field": "params." + ".".join(str(part) for part in detail["loc"]), "message": detail["msg"]}
            for detail in error.errors()
        ]
        summary = "; ".join(f"{field['field']}: {field['message']}" for field in fields[:5])
        raise Unprocessable(f"Some settings are not valid. {summary}", details={"fields": fields}) from error
    # Stored as given (defaults stay implicit), but only what the schema knows.
    return parsed.model_dump(mode="json", exclude_unset=True)


def add_node(project, *, type: str, title: str = "", x: float = 0, y: float = 0, params=None) -> Node:
    return Node.objects.create(
        project=project, type=type, title=title, x=x, y=y, params=validated_params(type, params or {})
    )


def update_node(node: Node, version: int, changes: dict[str, Any]) -> Node:
    """Apply changes if the caller saw the current version; otherwise StaleVersion with the current node."""
    fields: dict[str, Any] = {key: changes[key] for key in ("title", "x", "y") if changes.get(key) is not None}
    if changes.get("params") is not None:
        fields["params"] = validated_params(node.type, {**node.params, **changes["params"]})
    updated, current = update_if_current(Node.objects.select_related("selected_take"), node.pk, version, fields)
    if not updated:
        raise StaleVersion(stale_message("node", current.version, version), details={"node": node_fields(current)})
    return current


def delete_node(node: Node) -> list[str]:
    """Delete a node and its connections; returns the ids of the edges that went with it."""
    with transaction.atomic():
        edges = [str(edge_id) for edge_id in Edge.objects.filter(source=node).values_list("id", flat=True)]
        edges += [str(edge_id) for edge_id in Edge.objects.filter(target=node).values_list("id", flat=True)]
        node.delete()
    return edges


def connect(project, *, source, source_port: str, target, target_port: str, order=None, replace=False):
    """A new edge, if the graph would take it. Returns (edge, ids of edges it replaced)."""
    source_type, target_type = get_node_type(source.type), get_node_type(target.type)
    output, input_port = source_type.output(source_port), target_type.input(target_port)
    if output is None or input_port is None:
        missing = (
            f"{source_type.label} has no output {source_port!r}"
            if output is None
            else f"{target_type.label} has no input {target_port!r}"
        )
        raise EdgeRefused(f"{missing}.", details={"source_port": source_port, "target_port": target_port})
    if output.kind != input_port.kind:
        raise EdgeRefused(
            f"Cannot connect {source_type.label}'s {output.title} ({output.kind}) to "
            f"{target_type.label}'s {input_port.title} ({input_port.kind}): "
            f"{input_port.title} takes {input_port.kind}.",
            details={
                "source_port": source_port,
                "source_kind": output.kind,
                "target_port": target_port,
                "target_kind": input_port.kind,
            },
        )
    if source.pk == target.pk or str(target.pk) in load_graph(project).upstream_closure([str(source.pk)]):
        raise EdgeRefused("That connection would make a loop.", details={"source": str(source.pk)})
    with transaction.atomic():
        into_port = Edge.objects.select_for_update().filter(target=target, target_port=target_port)
        replaced: list[str] = []
        if into_port.filter(source=source, source_port=source_port).exists():
            raise Conflict("These ports are already connected.", code="already_connected")
        if not input_port.multi and into_port.exists():
            if not replace:
                raise Conflict(
                    f"{input_port.title} already has a connection: remove it first, or send replace=true.",
                    code="port_occupied",
                    details={"edge": str(into_port.first().id)},
                )
            replaced = [str(edge_id) for edge_id in into_port.values_list("id", flat=True)]
            into_port.delete()
        if input_port.multi and input_port.max_items and into_port.count() >= input_port.max_items:
            raise EdgeRefused(
                f"{input_port.title} takes at most {input_port.max_items}: remove one first.",
                details={"target_port": target_port},
            )
        if order is None:
            order = next_order(into_port)
        edge = Edge.objects.create(
            project=project,
            source=source,
            source_port=source_port,
            target=target,
            target_port=target_port,
            order=order,
        )
    return edge, replaced


def next_order(into_port) -> int:
    """The place after the last edge into a port: 0 for the first (a maximum of 0 is a real maximum)."""
    highest = into_port.aggregate(Max("order"))["order__max"]
    return 0 if highest is None else highest + 1


@transaction.atomic
def reorder_inputs(node: Node, port: str, edge_ids: list[str]) -> list[Edge]:
    """Put the edges into one input port in the given order (0..n-1). The list must name exactly those edges."""
    if get_node_type(node.type).input(port) is None:
        raise Unprocessable(
            f"{get_node_type(node.type).label} has no input {port!r}.",
            details={"fields": [{"field": "port", "message": "no such input"}]},
        )
    edges = {str(edge.id): edge for edge in Edge.objects.select_for_update().filter(target=node, target_port=port)}
    wanted = [str(edge_id) for edge_id in edge_ids]
    if sorted(wanted) != sorted(edges):
        raise Unprocessable(
            f"List every connection into {port!r} exactly once ({len(edges)} now), in the new order.",
            details={"fields": [{"field": "edges", "message": "must name exactly the edges into this port"}]},
        )
    for order, edge_id in enumerate(wanted):
        edges[edge_id].order = order
    Edge.objects.bulk_update(edges.values(), ["order"])
    return [edges[edge_id] for edge_id in wanted]


@transaction.atomic
def select_take(node: Node, take: Take) -> Node:
    """Use an earlier take: the node goes back to the params that made it, and downstream follows it."""
    if take.node_id != node.id:
        raise ValueError("That take belongs to another node.")
    node = Node.objects.select_for_update().get(pk=node.pk)
    node.selected_take = take
    node.params = take.params
    node.output = take.outputs
    node.cache_key = take.cache_key
    node.status = Node.Status.SUCCEEDED
    node.error_message = ""
    node.version += 1
    node.save()
    return node


def export_graph(project) -> dict[str, Any]:
    """A versioned document of the graph: what import_graph reads back."""
    nodes = list(Node.objects.filter(project=project).order_by("created_at", "id"))
    keys = {node.id: f"n{index + 1}" for index, node in enumerate(nodes)}
    return {
        "format": DOCUMENT_FORMAT,
        "version": DOCUMENT_VERSION,
        "nodes": [
            {"key": keys[n.id], "type": n.type, "title": n.title, "x": n.x, "y": n.y, "params": n.params} for n in nodes
        ],
        "edges": [
            {
                "source": keys[edge.source_id],
                "source_port": edge.source_port,
                "target": keys[edge.target_id],
                "target_port": edge.target_port,
                "order": edge.order,
            }
            for edge in Edge.objects.filter(project=project).order_by("target_id", "target_port", "order", "id")
        ],
    }


@transaction.atomic
def import_graph(project, document: dict[str, Any], *, replace: bool = True) -> dict[str, Any]:
    """Build a document's graph in the project (replacing what is there, unless told to add).

    Files belong to their project: a reference to an asset of another project is dropped, and said.
    """
    from assets.models import Asset

    lock_graph(project.pk)
    if replace:
        Node.objects.filter(project=project).delete()
    own_assets = {str(a) for a in Asset.objects.filter(project=project).values_list("id", flat=True)}
    warnings, created = [], {}
    for item in document["nodes"]:
        params = dict(item.get("params") or {})
        if params.get("asset_id") and str(params["asset_id"]) not in own_assets:
            params.pop("asset_id")
            warnings.append(f"{item.get('title') or item['key']}: its file is not in this project; upload it again.")
        created[item["key"]] = add_node(
            project,
            type=item["type"],
            title=item.get("title", ""),
            x=item.get("x", 0),
            y=item.get("y", 0),
            params=params,
        )
    edges = 0
    for item in document["edges"]:
        if item["source"] not in created or item["target"] not in created:
            raise Unprocessable(
                f"An edge refers to a node the document does not have ({item['source']} → {item['target']})."
            )
        connect(
            project,
            source=created[item["source"]],
            source_port=item["source_port"],
            target=created[item["target"]],
            target_port=item["target_port"],
            order=item.get("order"),
        )
        edges += 1
    return {
        "nodes": len(created),
        "edges": edges,
        "ids": {k: str(n.id) for k, n in created.items()},
        "warnings": warnings,
    }
