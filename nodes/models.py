import uuid

from django.conf import settings
from django.db import models

from projects.models import Project


class Node(models.Model):
    class Status(models.TextChoices):
        IDLE = "idle"
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELED = "canceled"
        NEEDS_ATTENTION = "needs_attention"  # its job's submit may have reached the provider: see Job

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="nodes")
    type = models.CharField(max_length=32)
    title = models.CharField(max_length=120, blank=True)
    x = models.FloatField(default=0)
    y = models.FloatField(default=0)
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.IDLE)
    # Port name -> value: text for text ports, asset or character ids for the others.
    output = models.JSONField(default=dict, blank=True)
    # The cache key of the last successful run: equal keys mean the output is still valid.
    cache_key = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    # The take downstream nodes use; its outputs are mirrored in `output`.
    selected_take = models.ForeignKey("nodes.Take", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Incremented on every edit; an update carrying an older version is refused (409).
    version = models.PositiveIntegerField(default=1)
    # What made the node, when a storyboard's expansion did: {"storyboard": id, "shot": id, "role": name,
    # "written": the params it wrote}. Expanding again updates it only while its params are still those.
    origin = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.title or f"{self.type} {str(self.id)[:8]}"


class Take(models.Model):
    """One successful run of a node: its outputs, kept so the user can go back to them."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="takes")
    number = models.PositiveIntegerField()
    # The generation Job that made it (a plain id: nodes know nothing of generation).
    job_id = models.UUIDField(null=True, blank=True)
    cache_key = models.CharField(max_length=64)
    params = models.JSONField(default=dict, blank=True)
    outputs = models.JSONField(default=dict, blank=True)
    details = models.JSONField(default=dict, blank=True)
    provider = models.CharField(max_length=40, blank=True)
    model = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["node_id", "-number"]
        constraints = [models.UniqueConstraint(fields=["node", "number"], name="unique_take_number")]

    def __str__(self) -> str:
        return f"{self.node} take {self.number}"


class Edge(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="edges")
    source = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="outgoing")
    source_port = models.CharField(max_length=32)
    target = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="incoming")
    target_port = models.CharField(max_length=32)
    # Position among the edges into a multi-valued port (the clips of a stitch, in order).
    order = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["target_id", "target_port", "order", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["source", "source_port", "target", "target_port"], name="unique_edge"),
        ]

    def __str__(self) -> str:
        return f"{self.source}.{self.source_port} -> {self.target}.{self.target_port}"


class Note(models.Model):
    """A sticky note on the canvas: words for collaborators, never part of a run."""

    class Color(models.TextChoices):
        YELLOW = "yellow"
        BLUE = "blue"
        GREEN = "green"
        PINK = "pink"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="notes")
    text = models.TextField(max_length=5000, blank=True)
    x = models.FloatField(default=0)
    y = models.FloatField(default=0)
    width = models.FloatField(default=220)
    height = models.FloatField(default=160)
    color = models.CharField(max_length=10, choices=Color.choices, default=Color.YELLOW)
    # As for nodes: an edit carrying an older version is refused (409).
    version = models.PositiveIntegerField(default=1)
    # {"storyboard": id} for the frame a storyboard's expansion draws around its nodes.
    origin = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.text[:40] or "Note"
