"""Node types, the graph, nodes, edges, takes, and graph documents."""

from uuid import UUID

from django.shortcuts import get_object_or_404
from ninja import Router, Status

from actions import editing, moderation, regenerating, storyboard
from config.errors import NotFound
from config.schemas import errors
from generation.models import Job
from live import snapshot
from nodes.models import Edge, Node, Note, Take
from nodes.registry import NODE_TYPES
from nodes.schemas import (
    EdgeIn,
    EdgeOut,
    ExpansionOut,
    GraphDocument,
    GraphOut,
    ImportOut,
    InputOrderIn,
    NodeIn,
    NodeOut,
    NodePatch,
    NodeTypeOut,
    NoteIn,
    NoteOut,
    NotePatch,
    ReportIn,
    ReportOut,
    TakeOut,
)
from nodes.services import export_graph
from projects.access import project_for
from projects.models import Membership

router = Router(tags=["graph"])
EDITOR = Membership.Role.EDITOR


@router.get("/node-types", response={200: list[NodeTypeOut], **errors()})
def node_types(request):
    """Every node type: its ports, and the JSON Schema of its params (the canvas builds its forms from it)."""
    return [
        {
            "name": node_type.name,
            "label": node_type.label,
            "description": node_type.description,
            "version": node_type.version,
            "queue": node_type.queue,
            "inputs": [vars(port) | {"label": port.title} for port in node_type.inputs],
            "outputs": [vars(port) | {"label": port.title} for port in node_type.outputs],
            "params_schema": node_type.Params.model_json_schema(),
        }
        for node_type in NODE_TYPES.values()
    ]


def _node_state(node: Node) -> dict:
    return snapshot.node_state(node, Job.objects.filter(node=node, status__in=Job.ACTIVE, variation=1).first())


def _node(project, node_id: UUID) -> Node:
    return get_object_or_404(Node.objects.select_related("selected_take"), project=project, pk=node_id)


def _node_in_body(project, node_id: UUID, field: str) -> Node:
    node = Node.objects.select_related("selected_take").filter(project=project, pk=node_id).first()
    if node is None:
        raise NotFound(f"There is no node {node_id} in this project (`{field}`).", field=field)
    return node


@router.get("/projects/{project_id}/graph", response={200: GraphOut, **errors(404)})
def graph(request, project_id: UUID):
    """All nodes (with their status, progress and chosen take) and edges: what a canvas needs to draw."""
    return snapshot.graph_snapshot(project_for(request.auth, project_id))


@router.get("/projects/{project_id}/graph/export", response={200: GraphDocument, **errors(404)})
def export(request, project_id: UUID):
    """The graph as a versioned document, for `graph/import` in this or another project."""
    return export_graph(project_for(request.auth, project_id))


@router.post("/projects/{project_id}/graph/import", response={200: ImportOut, **errors(403, 404, 409)})
def import_document(request, project_id: UUID, payload: GraphDocument, replace: bool = True):
    """Build a document's graph here: replacing the current graph, or added to it (`replace=false`)."""
    project = project_for(request.auth, project_id, role=EDITOR)
    return editing.import_graph(project, payload.model_dump(), replace=replace)


@router.post("/projects/{project_id}/nodes", response={201: NodeOut, **errors(403, 404)})
def add_node(request, project_id: UUID, payload: NodeIn):
    project = project_for(request.auth, project_id, role=EDITOR)
    node = editing.add_node(project, request.auth, **payload.model_dump())
    return Status(201, _node_state(node))


@router.get("/projects/{project_id}/nodes/{node_id}", response={200: NodeOut, **errors(404)})
def read_node(request, project_id: UUID, node_id: UUID):
    return _node_state(_node(project_for(request.auth, project_id), node_id))


@router.patch("/projects/{project_id}/nodes/{node_id}", response={200: NodeOut, **errors(403, 404, 409)})
def update_node(request, project_id: UUID, node_id: UUID, payload: NodePatch):
    """Change a node. `version` must be the one you last saw: a stale one is a 409 with the current node."""
    project = project_for(request.auth, project_id, role=EDITOR)
    changes = payload.model_dump(exclude={"version"}, exclude_unset=True)
    node = editing.update_node(_node(project, node_id), request.auth, payload.version, changes)
    return _node_state(node)


@router.delete("/projects/{project_id}/nodes/{node_id}", response={204: None, **errors(403, 404)})
def delete_node(request, project_id: UUID, node_id: UUID):
    project = project_for(request.auth, project_id, role=EDITOR)
    editing.delete_node(_node(project, node_id), request.auth)
    return Status(204, None)


@router.post("/projects/{project_id}/edges", response={201: EdgeOut, **errors(403, 404, 409)})
def connect(request, project_id: UUID, payload: EdgeIn):
    """Connect an output to an input. Incompatible kinds are a 422 naming both ports; a loop is refused."""
    project = project_for(request.auth, project_id, role=EDITOR)
    edge = editing.connect(
        project,
        request.auth,
        source=_node_in_body(project, payload.source, "source"),
        source_port=payload.source_port,
        target=_node_in_body(project, payload.target, "target"),
        target_port=payload.target_port,
        order=payload.order,
        replace=payload.replace,
    )
    return Status(201, snapshot.edge_state(edge))


@router.delete("/projects/{project_id}/edges/{edge_id}", response={204: None, **errors(403, 404)})
def disconnect(request, project_id: UUID, edge_id: UUID):
    project = project_for(request.auth, project_id, role=EDITOR)
    editing.disconnect(get_object_or_404(Edge, project=project, pk=edge_id), request.auth)
    return Status(204, None)


@router.put(
    "/projects/{project_id}/nodes/{node_id}/inputs/{port}/order",
    response={200: list[EdgeOut], **errors(403, 404)},
)
def reorder_inputs(request, project_id: UUID, node_id: UUID, port: str, payload: InputOrderIn):
    """Reorder the connections into a multi-valued input (a Stitch's clips): list every one, in the new order."""
    project = project_for(request.auth, project_id, role=EDITOR)
    edges = editing.reorder_inputs(_node(project, node_id), request.auth, port, payload.edges)
    return [snapshot.edge_state(edge) for edge in edges]


@router.get("/projects/{project_id}/nodes/{node_id}/takes", response={200: list[TakeOut], **errors(404)})
def takes(request, project_id: UUID, node_id: UUID):
    """Every output a node has made, newest first; `selected` is the one downstream nodes use."""
    node = _node(project_for(request.auth, project_id), node_id)
    return [take_out(take, node) for take in node.takes.all()]


@router.post(
    "/projects/{project_id}/nodes/{node_id}/takes/{take_id}/select", response={200: NodeOut, **errors(403, 404)}
)
def select_take(request, project_id: UUID, node_id: UUID, take_id: UUID):
    """Use this take: the node returns to the settings that made it, and everything downstream follows."""
    project = project_for(request.auth, project_id, role=EDITOR)
    node = _node(project, node_id)
    take = get_object_or_404(Take, node=node, pk=take_id)
    return _node_state(editing.select_take(node, take, request.auth))


@router.post("/projects/{project_id}/nodes/{node_id}/expand", response={200: ExpansionOut, **errors(403, 404, 409)})
def expand(request, project_id: UUID, node_id: UUID):
    """Turn a Storyboard's shots into nodes: per shot a Prompt, a keyframe (for a cut) and a Video, all
    feeding one Stitch in shot order. Expanding again updates the nodes it made (by shot id) and leaves
    alone those you changed (`kept`); the answer holds what undoing it needs."""
    project = project_for(request.auth, project_id, role=EDITOR)
    return storyboard.expand(_node(project, node_id), request.auth).as_dict()


@router.post(
    "/projects/{project_id}/nodes/{node_id}/shots/{shot_id}/regenerate",
    response={200: NodeOut, **errors(403, 404, 409, 502, 503)},
)
def regenerate_shot(request, project_id: UUID, node_id: UUID, shot_id: str):
    """Ask the text model to write one shot of a Storyboard again, in the context of the brief and the
    other shots (one text request; offline, the deterministic planner). Only that shot changes in the
    node's `shots` (planned shots become your edited list), keeping its id and length; the answer is the
    node, its version one higher. 409 `no_such_shot`, `not_a_storyboard`, `no_brief` or
    `already_regenerating`; 502 when the model refused or answered nothing usable, 503 when it could
    not be reached (or has no key): the shot is unchanged."""
    project = project_for(request.auth, project_id, role=EDITOR)
    return _node_state(regenerating.regenerate_shot(_node(project, node_id), shot_id, request.auth))


@router.post("/projects/{project_id}/nodes/{node_id}/report", response={201: ReportOut, **errors(404)})
def report(request, project_id: UUID, node_id: UUID, payload: ReportIn):
    """Report what the node shows now to the moderators (any member may); they hide it or dismiss the report."""
    node = _node(project_for(request.auth, project_id), node_id)
    made = moderation.report_output(node, request.auth, payload.reason)
    return Status(201, {"id": made.id, "status": made.status, "assets": [a.id for a in made.assets.all()]})


def _note(project, note_id: UUID) -> Note:
    return get_object_or_404(Note.objects.select_related("created_by"), project=project, pk=note_id)


@router.get("/projects/{project_id}/notes", response={200: list[NoteOut], **errors(404)})
def notes(request, project_id: UUID):
    """The canvas's sticky notes, oldest first."""
    project = project_for(request.auth, project_id)
    return [snapshot.note_state(note) for note in project.notes.select_related("created_by")]


@router.post("/projects/{project_id}/notes", response={201: NoteOut, **errors(403, 404)})
def add_note(request, project_id: UUID, payload: NoteIn):
    project = project_for(request.auth, project_id, role=EDITOR)
    return Status(201, snapshot.note_state(editing.add_note(project, request.auth, **payload.model_dump())))


@router.patch("/projects/{project_id}/notes/{note_id}", response={200: NoteOut, **errors(403, 404, 409)})
def update_note(request, project_id: UUID, note_id: UUID, payload: NotePatch):
    """Change a note. `version` must be the one you last saw: a stale one is a 409 `version_conflict`."""
    project = project_for(request.auth, project_id, role=EDITOR)
    changes = payload.model_dump(exclude={"version"}, exclude_unset=True)
    note = editing.update_note(_note(project, note_id), request.auth, payload.version, changes)
    return snapshot.note_state(note)


@router.delete("/projects/{project_id}/notes/{note_id}", response={204: None, **errors(403, 404)})
def delete_note(request, project_id: UUID, note_id: UUID):
    project = project_for(request.auth, project_id, role=EDITOR)
    editing.delete_note(_note(project, note_id), request.auth)
    return Status(204, None)


def take_out(take: Take, node: Node) -> dict:
    return {
        "id": take.id,
        "number": take.number,
        "outputs": take.outputs,
        "params": take.params,
        "details": take.details,
        "provider": take.provider,
        "model": take.model,
        "created_at": take.created_at,
        "selected": take.id == node.selected_take_id,
    }
