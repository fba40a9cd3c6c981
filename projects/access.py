"""Who may do what in a project. Every lookup starts from the user's memberships."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from projects.models import Membership, Project

RANK = {Membership.Role.VIEWER: 0, Membership.Role.EDITOR: 1, Membership.Role.OWNER: 2}
VERBS = {Membership.Role.EDITOR: "edit it", Membership.Role.OWNER: "manage it"}
# A refused member is told their role with its article ("an editor", not "a editor").
AS_MEMBER = {Membership.Role.VIEWER: "a viewer", Membership.Role.EDITOR: "an editor"}


def project_for(user, project_id, *, role: str = Membership.Role.VIEWER) -> Project:
    """The project if the user is a member with at least `role`.

    Not a member (or no such project): Project.DoesNotExist, a 404 that confirms nothing.
    A member with too small a role: PermissionDenied (403), which says what would be needed.
    """
    membership = (
        Membership.objects.select_related("project").filter(project_id=project_id, user=user).first()
        if user.is_authenticated
        else None
    )
    if membership is None:
        raise Project.DoesNotExist("No such project.")
    if RANK[membership.role] < RANK[role]:
        raise PermissionDenied(
            f"You are {AS_MEMBER[membership.role]} of this project: "
            f"only {'the owner' if role == 'owner' else 'editors'} can {VERBS[role]}."
        )
    project = membership.project
    project.role = membership.role
    return project


def project_or_404(user, project_id, *, role: str = Membership.Role.VIEWER) -> Project:
    """`project_for` for server-rendered pages: not a member is a 404 page."""
    try:
        return project_for(user, project_id, role=role)
    except Project.DoesNotExist:
        raise Http404("No such project.") from None


def can_edit(project: Project) -> bool:
    """Whether the member `project_for` found (its `role`) may change the project's graph."""
    return RANK[project.role] >= RANK[Membership.Role.EDITOR]
