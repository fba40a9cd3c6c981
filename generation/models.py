import uuid

from django.conf import settings
from django.db import models

from nodes.models import Node
from projects.models import Project


class Run(models.Model):
    """One press of Run: the plan (what runs, what is cached) and, through its jobs, how it went."""

    class Status(models.TextChoices):
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELED = "canceled"
        # A submit's outcome is unknown (see Job.Status.NEEDS_ATTENTION): the user decides what happens.
        NEEDS_ATTENTION = "needs_attention"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="runs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    targets = models.JSONField(default=list, blank=True)
    force = models.BooleanField(default=False)
    # Per node of the closure: {"node": id, "action": run|cached|joined, "job": id, "cost": "0.00"}.
    plan = models.JSONField(default=list, blank=True)
    cost_estimate = models.DecimalField(max_digits=10, decimal_places=4, default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"run {str(self.id)[:8]} ({self.status})"


class Job(models.Model):
    """One execution of one node. Its id is also the RQ job id."""

    class Status(models.TextChoices):
        WAITING = "waiting"  # for the jobs it depends on
        QUEUED = "queued"  # on an RQ queue
        RUNNING = "running"  # claimed by a worker, or waiting on a provider operation
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELED = "canceled"
        # A submit whose outcome is unknown (it timed out, the connection dropped after the request was
        # sent, a 5xx, or the worker died inside it): the provider may have started, and billed, the
        # video. Nothing happens until the user runs the node again (which may pay again).
        NEEDS_ATTENTION = "needs_attention"

    ACTIVE = (Status.WAITING, Status.QUEUED, Status.RUNNING)
    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELED, Status.NEEDS_ATTENTION)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="jobs")
    # Jobs (and what they cost) outlive their nodes: deleting a node cancels its job and keeps the row.
    node = models.ForeignKey(Node, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs")
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="jobs")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.WAITING)
    # Ids of the jobs whose outputs this one needs (they may belong to an earlier run it joined).
    depends_on = models.JSONField(default=list, blank=True)
    # Which take of its node's run this job makes (a node asked for several variations runs one job per
    # take). Take 1 leads: it sets the node's status and output and releases what depends on the node.
    variation = models.PositiveSmallIntegerField(default=1)
    # Ready to run but held back (status waiting) until its owner has a free generation slot (see quotas).
    waits_for_slot = models.BooleanField(default=False)
    queue = models.CharField(max_length=20, default="default")
    provider = models.CharField(max_length=40, blank=True)
    model = models.CharField(max_length=100, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    progress = models.FloatField(default=0)
    progress_label = models.CharField(max_length=200, blank=True)
    # A long provider operation (a Veo operation name), kept so a restarted job resumes it.
    provider_operation = models.CharField(max_length=255, blank=True)
    next_poll_at = models.DateTimeField(null=True, blank=True)
    # While a worker holds the job, until when; an expired lease means that worker died.
    lease_until = models.DateTimeField(null=True, blank=True)
    # The RQ job executing it right now (its own id, or a poll's), so that a cancel can stop it.
    rq_job_id = models.CharField(max_length=100, blank=True)
    # The worker that last claimed it.
    worker = models.CharField(max_length=200, blank=True)
    # What a node type keeps between the steps of a long operation.
    state = models.JSONField(default=dict, blank=True)
    # The key the plan computed (identical plans join the same job); the final cache key on success.
    plan_key = models.CharField(max_length=64, blank=True)
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
            models.Index(fields=["status", "next_poll_at"], name="job_status_poll"),
        ]

    def __str__(self) -> str:
        return f"job {str(self.id)[:8]} ({self.status})"


class Report(models.Model):
    """An output in the moderation queue: reported by a user, or blocked by a provider's safety filter."""

    class Source(models.TextChoices):
        USER = "user", "reported by a user"
        SAFETY = "safety", "blocked by a safety filter"

    class Status(models.TextChoices):
        OPEN = "open"
        HIDDEN = "hidden", "hidden (upheld)"
        DISMISSED = "dismissed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="reports")
    node = models.ForeignKey(Node, null=True, blank=True, on_delete=models.SET_NULL, related_name="reports")
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="reports")
    # The files reported (a user report); empty when a safety filter blocked the output before it existed.
    assets = models.ManyToManyField("assets.Asset", blank=True, related_name="reports")
    source = models.CharField(max_length=10, choices=Source.choices)
    reason = models.TextField()
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="reports_made"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["status", "-created_at"]
        indexes = [models.Index(fields=["status", "-created_at"], name="report_queue")]
        permissions = [("moderate", "Can hide content, suspend users, and retry or cancel jobs")]

    def __str__(self) -> str:
        return f"report {str(self.id)[:8]} ({self.get_source_display()}, {self.status})"


class AuditEntry(models.Model):
    """One moderation or back-office action: who did what to what, when and why. Never edited."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="audit_entries"
    )
    action = models.CharField(max_length=40)
    target_type = models.CharField(max_length=40)
    target_id = models.CharField(max_length=64)
    target = models.CharField(max_length=300, help_text="What the target was called at the time.")
    reason = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "audit log"

    def __str__(self) -> str:
        return f"{self.action} {self.target_type} {self.target}"
