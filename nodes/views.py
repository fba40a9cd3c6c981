"""The inspector: an htmx panel with a node's settings, rendered from its type's Params schema and
validated on the server by that same schema."""

import json

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_http_methods

from actions import editing, regenerating
from config.errors import Unprocessable
from nodes.forms import fields_for, parse
from nodes.models import Node
from nodes.registry import get_node_type
from nodes.services import StaleVersion, load_graph
from projects.access import can_edit, project_or_404


def settings_problems(project, node: Node) -> dict[str, str]:
    """The node type's rules its current settings break, by field (problems of wiring are the card's)."""
    graph = load_graph(project)
    validation = graph.validate(graph.upstream_closure([str(node.id)]))
    fields = node_type_fields(get_node_type(node.type))
    return {
        problem.field: problem.message
        for problem in validation.problems
        if problem.node_id == str(node.id) and problem.field in fields
    }


def node_type_fields(node_type) -> set[str]:
    return set(node_type.Params.model_json_schema().get("properties", {}))


def _planned(node: Node) -> dict:
    """What the last run made that a list field shows while the user has not edited it (shots)."""
    details = node.selected_take.details if node.selected_take else {}
    return {"shots": details.get("shots", [])}


@login_required
@require_http_methods(["GET", "POST"])
def inspector(request, project_id, node_id):
    project = project_or_404(request.user, project_id)
    node = get_object_or_404(Node.objects.select_related("selected_take"), project=project, pk=node_id)
    node_type = get_node_type(node.type)
    editable = can_edit(project)
    errors, notice, trigger, stale = {}, "", None, False
    submitted, saved = None, False
    if request.method == "POST":
        if not editable:
            raise PermissionDenied("Viewers cannot change nodes.")
        fields = fields_for(node_type, node.params)
        submitted = parse(fields, request.POST)
        before = {"title": node.title, "params": node.params}
        try:
            node = editing.update_node(
                node,
                request.user,
                int(request.POST.get("version", 0)),
                {"title": request.POST.get("title", node.title)[:120], "params": submitted},
            )
        except StaleVersion:
            node = Node.objects.select_related("selected_take").get(pk=node.pk)
            submitted, stale = None, True
            notice = "Someone else changed this node just now: these are their settings. Make your change again."
        except Unprocessable as error:
            errors = {f["field"].removeprefix("params."): f["message"] for f in error.details.get("fields", [])}
        else:
            saved = True
            trigger = {
                "node-saved": {
                    "id": str(node.id),
                    "before": before,
                    "after": {"title": node.title, "params": node.params},
                }
            }
    values = {**node.params, **(submitted or {})} if errors else node.params
    # Settings the schema takes can still break the node type's rules (Veo's 1080p needs 8 s): said at the field.
    rule_errors = {} if errors else settings_problems(project, node)
    if saved:
        notice = "Saved, but this node cannot run like this: see the fields marked below." if rule_errors else "Saved."
    response = render(
        request,
        "nodes/inspector.html",
        {
            "node": node,
            "node_type": node_type,
            "fields": fields_for(node_type, values, errors or rule_errors, shown=_planned(node)),
            "can_edit": editable,
            "notice": notice,
            "has_errors": bool(errors),
            "stale": stale,
            "rule_errors": bool(rule_errors),
            "take": node.selected_take,
            # Who rewrites a storyboard's shot, and whether that is a paid request (said at the button).
            "rewriter": regenerating.rewriter(),
            # What the form was built from, so the canvas knows whether a newer version changes it.
            "shown": {"title": node.title, "params": node.params},
        },
    )
    if trigger:
        response["HX-Trigger"] = json.dumps(trigger)
    return response
