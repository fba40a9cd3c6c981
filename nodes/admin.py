from django.contrib import admin

from nodes.models import Edge, Node


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
