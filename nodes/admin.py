from django.contrib import admin

from nodes.models import Edge, Node, Take


@admin.register(Node)
class NodeAdmin(admin.ModelAdmin):
    list_display = ["__str__", "type", "project", "status", "version", "updated_at"]
    list_filter = ["type", "status"]
    search_fields = ["id", "title", "project__name"]
    list_select_related = ["project"]
    readonly_fields = ["id", "cache_key", "version", "created_at", "updated_at"]


@admin.register(Edge)
class EdgeAdmin(admin.ModelAdmin):
    list_display = ["__str__", "project", "order", "created_at"]
    search_fields = ["project__name", "source__title", "target__title"]
    list_select_related = ["project", "source", "target"]


@admin.register(Take)
class TakeAdmin(admin.ModelAdmin):
    list_display = ["__str__", "node", "provider", "model", "created_at"]
    list_filter = ["provider"]
    search_fields = ["id", "node__title", "node__project__name"]
    list_select_related = ["node"]
    readonly_fields = ["id", "node", "number", "job_id", "cache_key", "params", "outputs", "details", "created_at"]
