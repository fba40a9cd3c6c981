"""The snapshot read model: what a canvas shows of a project (its nodes with their outputs and
media, edges, notes, the runs under way), built from every app's rows. Events carry these states
whole, and a browser that (re)connects gets the snapshot (live.events)."""

from __future__ import annotations

from typing import Any, Literal

from typing_extensions import TypedDict  # pydantic (the API schemas) needs this one on Python < 3.12

from assets.models import Asset
from assets.serving import signed_url
from characters.models import Character
from generation.keepable import offer
from generation.models import Job, Run
from generation.planning import outdated_node_ids
from nodes.models import Edge, Node, Note, Take
from nodes.notes import note_fields
from nodes.registry import NODE_TYPES
from nodes.services import node_fields
from nodes.state import CharacterState, EdgeState, MediaState, NodeState, NoteState, TakeState, VariationState
from projects.models import Project


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
    notes: list[NoteState]
    runs: list[RunState]


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
    return media_of(*_output_ids(nodes))


def media_of(asset_ids: set[str], character_ids: set[str]) -> tuple[dict[str, MediaState], dict[str, CharacterState]]:
    """Signed URLs for these files (and the posters of videos) and characters."""
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
        "variations": variation_states(node),
    }


def variation_states(node: Node) -> list[VariationState]:
    """The takes of the node's latest run, side by side, when it asked for several (two queries, and
    the media's); nothing for the many nodes that make one take a run."""
    if variations_of_params(node.params) < 2:
        return []
    latest = Job.objects.filter(node=node).order_by("-created_at").values_list("run_id", flat=True).first()
    jobs = list(Job.objects.filter(node=node, run_id=latest).order_by("variation"))
    if len(jobs) < 2:
        return []
    takes = {take.job_id: take for take in Take.objects.filter(node=node, job_id__in=[job.id for job in jobs])}
    main = {job.id: _main_output(node.type, takes[job.id].outputs) for job in jobs if job.id in takes}
    files, _ = media_of({asset_id for asset_id in main.values() if asset_id}, set())
    states: list[VariationState] = []
    for job in jobs:
        take = takes.get(job.id)
        states.append(
            {
                "variation": job.variation,
                "job_id": str(job.id),
                "status": job.status,
                "error": job.error_message if job.status != Job.Status.SUCCEEDED else "",
                "label": job.progress_label if job.status in Job.ACTIVE else "",
                "take_id": str(take.id) if take else None,
                "take_number": take.number if take else None,
                "selected": take is not None and take.id == node.selected_take_id,
                "media": files.get(main.get(job.id) or ""),
            }
        )
    return states


def variations_of_params(params: dict) -> int:
    value = params.get("variations", 1)
    return value if isinstance(value, int) else 1


def _main_output(type_name: str, outputs: dict) -> str | None:
    """The first file output of a take (a Video's video, not its last frame)."""
    node_type = NODE_TYPES.get(type_name)
    for port in node_type.outputs if node_type else ():
        if port.kind in ("image", "video", "audio") and outputs.get(port.name):
            return str(outputs[port.name])
    return None


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
    leads = Job.objects.filter(project=project, status__in=Job.ACTIVE, variation=1)
    active_jobs = {job.node_id: job for job in leads}
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
