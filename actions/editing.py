"""Edits to a project's graph and membership, each followed by the event every open canvas needs.

Every graph edit takes the project's row lock first (nodes.services.lock_graph), so two editors'
edits, and run planning, happen one after the other.

The API and the WebSocket consumer both edit through here, so an edit reaches the other members
the same way wherever it was made.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Q

from assets.models import Asset
from assets.storage import copy_asset
from characters import services as characters
from characters.models import Character
from config.errors import Unprocessable
from generation import endings
from generation.models import Job
from live import events, snapshot
from nodes import notes, services
from nodes.models import Edge, Node, Note, Take
from projects.models import Membership, Project
from projects.services import create_project


@transaction.atomic
def add_node(project: Project, user, **fields) -> Node:
    services.lock_graph(project.pk)
    node = services.add_node(project, **fields)
    node = Node.objects.select_related("selected_take").get(pk=node.pk)
    events.broadcast(project.id, events.node_changed("node.created", node, user))
    return node


@transaction.atomic
def update_node(node: Node, user, version: int, changes) -> Node:
    services.lock_graph(node.project_id)
    node = services.update_node(services.current(Node, node, "node"), version, changes)
    events.broadcast(node.project_id, events.node_changed("node.updated", node, user))
    return node


def delete_node(node: Node, user) -> None:
    """A job of the node still under way is canceled first, so its run ends and what waits on it is
    released; the job row and its cost stay (jobs outlive their nodes: the provider was paid)."""
    jobs = Job.objects.filter(node=node, status__in=Job.ACTIVE)
    endings.cancel_all(jobs, f"Canceled: {node} was deleted by {events.username(user) or 'someone'}.")
    with transaction.atomic():
        project_id, node_id = node.project_id, str(node.id)
        services.lock_graph(project_id)
        edge_ids = services.delete_node(services.current(Node, node, "node"))
        events.broadcast(project_id, events.node_deleted(node_id, edge_ids, user))


@transaction.atomic
def connect(project: Project, user, **fields) -> Edge:
    # Under the lock, so the nodes are read again: one deleted meanwhile is a 404, not a broken key.
    services.lock_graph(project.pk)
    fields["source"] = services.current(Node, fields["source"], "node")
    fields["target"] = services.current(Node, fields["target"], "node")
    edge, replaced = services.connect(project, **fields)
    events.broadcast(project.id, events.edge_created(edge, replaced, user))
    return edge


@transaction.atomic
def disconnect(edge: Edge, user) -> None:
    project_id, edge_id = edge.project_id, str(edge.id)
    services.lock_graph(project_id)
    services.current(Edge, edge, "connection").delete()
    events.broadcast(project_id, events.edge_deleted(edge_id, user))


@transaction.atomic
def reorder_inputs(node: Node, user, port: str, edge_ids) -> list[Edge]:
    services.lock_graph(node.project_id)
    edges = services.reorder_inputs(services.current(Node, node, "node"), port, edge_ids)
    events.broadcast(node.project_id, events.edges_reordered(node, port, edges, user))
    return edges


@transaction.atomic
def select_take(node: Node, take: Take, user) -> Node:
    services.lock_graph(node.project_id)
    node = services.select_take(services.current(Node, node, "node"), take)
    node = Node.objects.select_related("selected_take").get(pk=node.pk)
    events.broadcast(node.project_id, events.node_changed("node.updated", node, user))
    return node


@transaction.atomic
def add_note(project: Project, user, **fields) -> Note:
    note = notes.add_note(project, user, **fields)
    events.broadcast(project.id, events.note_changed("note.created", note, user))
    return note


@transaction.atomic
def update_note(note: Note, user, version: int, changes) -> Note:
    note = notes.update_note(note, version, changes)
    events.broadcast(note.project_id, events.note_changed("note.updated", note, user))
    return note


@transaction.atomic
def delete_note(note: Note, user) -> None:
    project_id, note_id = note.project_id, str(note.id)
    note.delete()
    events.broadcast(project_id, events.note_deleted(note_id, user))


@transaction.atomic
def import_graph(project: Project, document, *, replace: bool) -> dict:
    result = services.import_graph(project, document, replace=replace)
    events.broadcast(project.id, snapshot.graph_snapshot(project))
    return result


@transaction.atomic
def rename_project(project: Project, name: str) -> Project:
    project.name = name
    project.save(update_fields=["name", "updated_at"])
    events.broadcast(project.id, events.project_updated(project))
    return project


class AlreadyMember(Exception):
    pass


def add_member(project: Project, user, role: str) -> Membership:
    try:
        with transaction.atomic():
            return Membership.objects.create(project=project, user=user, role=role)
    except IntegrityError:  # the unique (project, user) constraint: also when two adds race
        raise AlreadyMember(user.get_username()) from None


def change_role(membership: Membership, role: str) -> Membership:
    membership.role = role
    membership.save(update_fields=["role"])
    events.broadcast(membership.project_id, events.member_changed(membership.user_id, role))
    return membership


@transaction.atomic
def remove_member(membership: Membership) -> None:
    project_id, user_id = membership.project_id, membership.user_id
    membership.delete()
    events.broadcast(project_id, events.member_removed(user_id))


@transaction.atomic
def duplicate_project(project: Project, user) -> Project:
    """A copy of the graph, with its own copies of the files the nodes use; no outputs, no history."""
    copy = create_project(user, f"{project.name} (copy)"[:120])
    document = services.export_graph(project)
    copies = {}
    for node in document["nodes"]:
        asset_id = node["params"].get("asset_id")
        if asset_id:
            if asset_id not in copies:
                original = project.assets.filter(pk=asset_id).first()
                copies[asset_id] = str(copy_asset(original, copy, user).id) if original else None
            node["params"]["asset_id"] = copies[asset_id]
            if node["params"]["asset_id"] is None:
                node["params"].pop("asset_id")
    services.import_graph(copy, document, replace=True)
    return copy


def asset_from_character(project: Project, user, character: Character) -> Asset:
    """The character's face photo as an image of this project (the photo itself when it is already here)."""
    photo = character.source_asset
    if photo is None or photo.hidden_at is not None:
        raise Unprocessable(
            f"{character.name} has no photo to put on the canvas: upload a photo of them instead.",
            code="no_photo",
        )
    return photo if photo.project_id == project.id else copy_asset(photo, project, user)


@transaction.atomic
def merge_characters(source: Character, into: Character) -> Character:
    """One character from two: the photos join `into`, and every output naming `source` names `into`."""
    old = str(source.id)  # before the merge deletes it, which clears its id
    into = characters.merge(source, into)
    new = str(into.id)
    for node in Node.objects.filter(output__character=old):
        node.output = {**node.output, "character": new}
        node.save(update_fields=["output"])
    for take in Take.objects.filter(Q(outputs__character=old)):
        take.outputs = {**take.outputs, "character": new}
        take.save(update_fields=["outputs"])
    return into
