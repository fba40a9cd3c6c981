"""The Moderators group: what moderators may look at in the admin, and the one permission that lets
them act (through the moderation actions)."""

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

MODERATORS = "Moderators"
# What moderators may look at (everything Reelgraph keeps, and users); they change nothing directly,
# and act only through the moderation actions, which need `generation.moderate`.
MODERATOR_VIEWS = [
    ("projects", "project"), ("projects", "membership"), ("assets", "asset"), ("nodes", "node"),
    ("nodes", "edge"), ("nodes", "take"), ("characters", "character"), ("generation", "run"),
    ("generation", "job"), ("generation", "report"), ("generation", "auditentry"), ("auth", "user"),
]  # fmt: skip


def ensure_moderators_group(**kwargs) -> Group:
    """The Moderators group with exactly its permissions (run after every migrate)."""
    group, _ = Group.objects.get_or_create(name=MODERATORS)
    wanted = Q(content_type__app_label="generation", codename="moderate")
    for app_label, model in MODERATOR_VIEWS:
        wanted |= Q(content_type__app_label=app_label, codename=f"view_{model}")
    group.permissions.set(Permission.objects.filter(wanted))
    return group
