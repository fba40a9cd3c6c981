from django.contrib import admin

from generation.models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "node",
        "project",
        "status",
        "queue",
        "provider",
        "attempts",
        "progress",
        "created_at",
    ]
    list_filter = ["status", "queue", "provider"]
    search_fields = ["id", "run_id", "provider_operation", "project__name"]
    list_select_related = ["node", "project"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "id",
        "run_id",
        "project",
        "node",
        "attempts",
        "progress",
        "progress_label",
        "provider_operation",
        "cache_key",
        "params",
        "outputs",
        "cost_estimate",
        "cost_actual",
        "error_code",
        "error_message",
        "created_by",
        "created_at",
        "started_at",
        "finished_at",
    ]
