from django.contrib import admin

from generation.models import Job, Run


class JobInline(admin.TabularInline):
    model = Job
    fields = ["node", "status", "attempts", "progress", "provider", "cost_estimate", "cost_actual", "error_message"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "status", "cost_estimate", "created_by", "created_at", "finished_at"]
    list_filter = ["status"]
    search_fields = ["id", "project__name", "created_by__username"]
    list_select_related = ["project", "created_by"]
    date_hierarchy = "created_at"
    readonly_fields = ["id", "project", "created_by", "targets", "force", "plan", "cost_estimate", "created_at"]
    inlines = [JobInline]


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "node", "project", "status", "queue", "provider", "attempts", "progress", "created_at"]
    list_filter = ["status", "queue", "provider"]
    search_fields = ["id", "run__id", "provider_operation", "project__name"]
    list_select_related = ["node", "project"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "id", "run", "project", "node", "depends_on", "attempts", "progress", "progress_label", "provider_operation",
        "next_poll_at", "lease_until", "rq_job_id", "worker", "state", "plan_key", "cache_key", "params", "outputs",
        "cost_estimate", "cost_actual", "error_code", "error_message", "created_by", "created_at", "started_at",
        "finished_at",
    ]  # fmt: skip
