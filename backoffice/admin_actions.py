"""What the back office's moderation actions share: a page asking why, then the service call.

Every action needs the `generation.moderate` permission (superusers and the Moderators group) and a
reason, which goes to the audit log with who did it and when.
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from assets.serving import signed_url
from config.errors import ApiError


class ReasonForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=2000,
        help_text="Written to the audit log; owners see it on hidden content.",
    )


def moderation_action(service: Callable, description: str, done: str):
    """An admin action that asks for a reason, then calls `service(objects, moderator, reason)`."""

    def action(modeladmin, request, queryset):
        form = ReasonForm(request.POST if "confirm" in request.POST else None)
        if form.is_valid():
            try:
                result = service(list(queryset), request.user, form.cleaned_data["reason"])
            except ApiError as error:
                modeladmin.message_user(request, error.message, messages.ERROR)
                return None
            count = len(result) if isinstance(result, list) else result
            modeladmin.message_user(request, done.format(count=count), messages.SUCCESS)
            return None
        return TemplateResponse(
            request,
            "admin/reelgraph/reason.html",
            {
                **modeladmin.admin_site.each_context(request),
                "title": description,
                "objects": queryset,
                "form": form,
                "action": request.POST.get("action"),
                "opts": modeladmin.model._meta,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )

    action.__name__ = service.__name__
    return admin.action(description=description, permissions=["moderate"])(action)


class ModerationMixin:
    """Gives a ModelAdmin the `moderate` permission check its actions declare."""

    def has_moderate_permission(self, request) -> bool:
        return request.user.has_perm("generation.moderate")


class ReadOnlyMixin:
    """The back office looks at what the product made; it changes it only through actions."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser


def admin_link(obj, label: str | None = None) -> str:
    """A link to an object's admin page (or a dash)."""
    if obj is None:
        return "—"
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, label or str(obj))


def media_preview(asset, height: int = 90) -> str:
    """An inline thumbnail, or a playable video or audio, of an asset; says so when it is hidden."""
    if asset is None:
        return "—"
    url = signed_url(asset)[0]  # staff see hidden files too: they must judge them
    hidden = (
        format_html('<br><strong style="color:#c00">hidden: {}</strong>', asset.hidden_reason)
        if asset.hidden_at
        else ""
    )
    if asset.kind == "video":
        player = format_html(
            '<video src="{}" controls preload="metadata" style="max-height:{}px"></video>', url, height
        )
    elif asset.kind == "audio":
        player = format_html('<audio src="{}" controls preload="none"></audio>', url)
    else:
        player = format_html('<img src="{}" alt="" style="max-height:{}px">', url, height)
    return format_html("{}{}", player, hidden)
