from django.contrib import admin
from django.utils.html import format_html_join

from actions import moderation
from backoffice.admin_actions import ModerationMixin, admin_link, media_preview, moderation_action
from nodes.models import Edge, Node, Take


@admin.register(Node)
class NodeAdmin(admin.ModelAdmin):
    list_display = ["__str__", "type", "project_link", "status", "version", "updated_at"]
    list_filter = ["type", "status"]
    search_fields = ["id", "title", "project__name"]
    list_select_related = ["project"]
    readonly_fields = ["id", "cache_key", "version", "created_at", "updated_at"]

    @admin.display(description="project", ordering="project__name")
    def project_link(self, node: Node) -> str:
        return admin_link(node.project)


@admin.register(Edge)
class EdgeAdmin(admin.ModelAdmin):
    list_display = ["__str__", "project", "order", "created_at"]
    search_fields = ["project__name", "source__title", "target__title"]
    list_select_related = ["project", "source", "target"]


@admin.register(Take)
class TakeAdmin(ModerationMixin, admin.ModelAdmin):
    list_display = ["__str__", "node_link", "provider", "model", "previews", "created_at"]
    list_filter = ["provider"]
    search_fields = ["id", "node__title", "node__project__name"]
    list_select_related = ["node"]
    readonly_fields = [
        "id",
        "node",
        "number",
        "job_id",
        "cache_key",
        "params",
        "outputs",
        "previews",
        "details",
        "created_at",
    ]
    actions = [
        moderation_action(moderation.hide_takes, "Hide the files of the selected outputs", "{count} file(s) hidden.")
    ]

    @admin.display(description="node", ordering="node__title")
    def node_link(self, take: Take) -> str:
        return admin_link(take.node)

    @admin.display(description="files")
    def previews(self, take: Take) -> str:
        return format_html_join(" ", "{}", ((media_preview(asset, 60),) for asset in moderation.output_assets([take])))
