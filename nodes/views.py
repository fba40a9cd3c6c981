"""The inspector: an htmx panel with a node's settings, rendered from its type's Params schema and
validated on the server by that same schema."""

import json

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_http_methods

from config.errors import Unprocessable
from generation import editing
from nodes.forms import fields_for, parse
from nodes.models import Node
from nodes.registry import get_node_type
from nodes.services import StaleVersion
from projects.access import can_edit, project_or_404


@login_required
@require_http_methods(["GET", "POST"])
def inspector(request, project_id, node_id):
    project = project_or_404(request.user, project_id)
    node = get_object_or_404(Node.objects.select_related("selected_take"), project=project, pk=node_id)
    node_type = get_node_type(node.type)
    editable = can_edit(project)
    errors, notice, trigger, stale = {}, "", None, False
    submitted = None
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
            notice = "Saved."
            trigger = {
                "node-saved": {
                    "id": str(node.id),
                    "before": before,
                    "after": {"title": node.title, "params": node.params},
                }
            }
    values = {**node.params, **(submitted or {})} if errors else node.params
    response = render(
        request,
        "nodes/inspector.html",
        {
            "node": node,
            "node_type": node_type,
            "fields": fields_for(node_type, values, errors),
            "can_edit": editable,
            "notice": notice,
            "has_errors": bool(errors),
            "stale": stale,
            "take": node.selected_take,
            # What the form was built from, so the canvas knows whether a newer version changes it.
            "shown": {"title": node.title, "params": node.params},
        },
    )
    if trigger:
        response["HX-Trigger"] = json.dumps(trigger)
    return response
