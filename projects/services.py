from django.contrib.auth import get_user_model
from django.db import transaction

from projects.models import Membership, Project

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo"  # noqa: S105 - the documented development login; never created in production


@transaction.atomic
def create_project(owner, name: str) -> Project:
    project = Project.objects.create(owner=owner, name=name)
    Membership.objects.create(project=project, user=owner, role=Membership.Role.OWNER)
    return project


def ensure_demo_user():
    """The development login demo/demo, with a first project so the canvas is never empty."""
    user, created = get_user_model().objects.get_or_create(username=DEMO_USERNAME)
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
        create_project(user, "My first film")
    return user
