import json

from django.contrib import admin
from django.db.models import Prefetch
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from actions import moderation
from assets.models import Asset
from backoffice.admin_actions import ModerationMixin, ReadOnlyMixin, admin_link, media_preview, moderation_action
from generation.models import AuditEntry, Job, Report, Run


def pretty_json(value) -> str:
    return format_html("<pre style='white-space:pre-wrap;margin:0'>{}</pre>", json.dumps(value, indent=2, default=str))


class JobInline(admin.TabularInline):
    model = Job
    fields = ["node", "status", "attempts", "progress", "provider", "cost_estimate", "cost_actual", "error_message"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Run)
class RunAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["id", "project_link", "status", "cost_estimate", "created_by", "created_at", "finished_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["id", "project__name", "created_by__username"]
    list_select_related = ["project", "created_by"]
    date_hierarchy = "created_at"
    inlines = [JobInline]

    @admin.display(description="project", ordering="project__name")
    def project_link(self, run: Run) -> str:
        return admin_link(run.project)


class OwnerFilter(admin.RelatedOnlyFieldListFilter):
    title = "owner"


@admin.register(Job)
class JobAdmin(ModerationMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "short_id", "node_link", "project_link", "owner_link", "status", "queue", "provider", "model", "attempts",
        "progress_percent", "cost_estimate", "cost_actual", "duration", "created_at",
    ]  # fmt: skip
    list_filter = ["status", "provider", "queue", ("created_by", OwnerFilter), "created_at"]
    search_fields = ["id", "run__id", "provider_operation", "project__name", "node__title", "created_by__username"]
    list_select_related = ["node", "project", "created_by"]
    date_hierarchy = "created_at"
    fieldsets = [
        (None, {"fields": ["id", "status", "node_link", "project_link", "owner_link", "run", "queue"]}),
        ("Provider", {"fields": ["provider", "model", "provider_operation", "next_poll_at", "rq_link", "worker"]}),
        (
            "Progress and timings",
            {
                "fields": [
                    "attempts",
                    "progress_percent",
                    "progress_label",
                    "created_at",
                    "started_at",
                    "finished_at",
                    "duration",
                    "lease_until",
                ]
            },
        ),
        ("Cost", {"fields": ["cost_estimate", "cost_actual"]}),
        ("Error", {"fields": ["error_code", "error_message"]}),
        (
            "Parameters and outputs",
            {"fields": ["params_json", "outputs_json", "state_json", "depends_on", "plan_key", "cache_key"]},
        ),
    ]
    readonly_fields = [field for _, options in fieldsets for field in options["fields"]]
    actions = [
        moderation_action(moderation.retry_jobs, "Retry the selected jobs (a new run)", "{count} job(s) queued again."),
        moderation_action(moderation.cancel_jobs, "Cancel the selected jobs (stops them in RQ)", "{count} canceled."),
    ]

    @admin.display(description="job", ordering="id")
    def short_id(self, job: Job) -> str:
        return str(job.id)[:8]

    @admin.display(description="node", ordering="node__title")
    def node_link(self, job: Job) -> str:
        return admin_link(job.node)

    @admin.display(description="project", ordering="project__name")
    def project_link(self, job: Job) -> str:
        return admin_link(job.project)

    @admin.display(description="owner", ordering="created_by__username")
    def owner_link(self, job: Job) -> str:
        return admin_link(job.created_by)

    @admin.display(description="progress")
    def progress_percent(self, job: Job) -> str:
        return f"{job.progress:.0%}"

    @admin.display(description="took")
    def duration(self, job: Job) -> str:
        if not (job.started_at and job.finished_at):
            return "—"
        return f"{(job.finished_at - job.started_at).total_seconds():.1f} s"

    @admin.display(description="RQ")
    def rq_link(self, job: Job) -> str:
        dashboard = reverse("django_rq:home")
        if job.rq_job_id:
            return format_html('<code>{}</code> · <a href="{}">RQ dashboard</a>', job.rq_job_id, dashboard)
        return format_html('<a href="{}">RQ dashboard</a>', dashboard)

    @admin.display(description="parameters")
    def params_json(self, job: Job) -> str:
        return pretty_json(job.params)

    @admin.display(description="outputs")
    def outputs_json(self, job: Job) -> str:
        return pretty_json(job.outputs)

    @admin.display(description="state kept between steps")
    def state_json(self, job: Job) -> str:
        return pretty_json(job.state)


@admin.register(Report)
class ReportAdmin(ModerationMixin, ReadOnlyMixin, admin.ModelAdmin):
    """The moderation queue: open reports first, newest first."""

    list_display = ["created_at", "source", "status", "project_link", "node_link", "reporter", "excerpt", "previews"]
    list_filter = ["status", "source", "created_at"]
    search_fields = ["reason", "project__name", "reporter__username", "node__title"]
    list_select_related = ["project", "node", "reporter"]
    fields = ["source", "status", "project_link", "node_link", "job_link", "reporter", "reason", "previews",
              "resolved_by", "resolved_at", "resolution", "created_at"]  # fmt: skip
    readonly_fields = fields
    actions = [
        moderation_action(moderation.uphold_reports, "Hide what was reported (uphold)", "{count} report(s) upheld."),
        moderation_action(moderation.dismiss_reports, "Dismiss the reports", "{count} report(s) dismissed."),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related(Prefetch("assets", queryset=Asset.objects.all()))

    @admin.display(description="project")
    def project_link(self, report: Report) -> str:
        return admin_link(report.project)

    @admin.display(description="node")
    def node_link(self, report: Report) -> str:
        return admin_link(report.node)

    @admin.display(description="job")
    def job_link(self, report: Report) -> str:
        return admin_link(report.job)

    @admin.display(description="reason")
    def excerpt(self, report: Report) -> str:
        return report.reason if len(report.reason) < 120 else report.reason[:117] + "…"

    @admin.display(description="what was reported")
    def previews(self, report: Report) -> str:
        assets = list(report.assets.all())
        if not assets:
            return "nothing was made (blocked before output)" if report.source == Report.Source.SAFETY else "—"
        return format_html_join(" ", "{}", ((media_preview(asset, 70),) for asset in assets))


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["created_at", "actor", "action", "target_type", "target", "reason"]
    list_filter = ["action", "target_type", ("actor", admin.RelatedOnlyFieldListFilter), "created_at"]
    search_fields = ["target", "target_id", "reason", "actor__username"]
    list_select_related = ["actor"]
    date_hierarchy = "created_at"

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the log is append-only
