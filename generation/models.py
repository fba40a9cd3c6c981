import uuid

from django.conf import settings
from django.db import models

from nodes.models import Node
from projects.models import Project


class Job(models.Model):
    """One execution of one node. Its id is also the RQ job id."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELED = "canceled"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="jobs")
    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="jobs")
    run_id = models.UUIDField(db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    queue = models.CharField(max_length=20, default="default")
    provider = models.CharField(max_length=40, blank=True)
    model = models.CharField(max_length=100, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    progress = models.FloatField(default=0)
    progress_label = models.CharField(max_length=200, blank=True)
    # A long provider operation (a Veo operation name), kept so a restarted job resumes it.
    provider_operation = models.CharField(max_length=255, blank=True)
    cache_key = models.CharField(max_length=64, blank=True)
    params = models.JSONField(default=dict, blank=True)
    outputs = models.JSONField(default=dict, blank=True)
    cost_estimate = models.DecimalField(max_digits=10, decimal_places=4, default=0)
    cost_actual = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["project", "status"], name="job_project_status"),
            models.Index(fields=["node", "-created_at"], name="job_node_recent"),
        ]

    def __str__(self) -> str:
        return f"job {str(self.id)[:8]} ({self.status})"
