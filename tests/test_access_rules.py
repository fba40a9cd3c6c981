"""Who may see and change a project (projects/access.py): each role against each need, exactly at
the boundary, with the words a refused member reads; a non-member learns nothing (a 404)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from actions import editing
from projects.access import can_edit, project_for, project_or_404
from projects.models import Membership, Project
from tests.api import Api, error_of
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db

VIEWER, EDITOR, OWNER = Membership.Role.VIEWER, Membership.Role.EDITOR, Membership.Role.OWNER
REFUSED = {
    (VIEWER, EDITOR): "You are a viewer of this project: only editors can edit it.",
    (VIEWER, OWNER): "You are a viewer of this project: only the owner can manage it.",
    (EDITOR, OWNER): "You are an editor of this project: only the owner can manage it.",
}


@pytest.fixture
def member(project, alice, bob):
    """The user holding `role` in alice's project: alice herself as the owner, bob otherwise."""

    def holding(role):
        if role == OWNER:
            return alice
        editing.add_member(project, bob, role)
        return bob

    return holding


@pytest.mark.parametrize("needed", [VIEWER, EDITOR, OWNER])
@pytest.mark.parametrize("role", [VIEWER, EDITOR, OWNER])
def test_each_role_gets_what_it_ranks_for_and_reads_why_not(project, member, role, needed):
    user = member(role)

    if (role, needed) in REFUSED:
        with pytest.raises(PermissionDenied) as refused:
            project_for(user, project.id, role=needed)
        assert str(refused.value) == REFUSED[role, needed]
        with pytest.raises(PermissionDenied):  # a page says the same, not "not found"
            project_or_404(user, project.id, role=needed)
    else:
        found = project_for(user, project.id, role=needed)
        assert (found.pk, found.name, found.role) == (project.pk, "Alice's film", role)
        assert project_or_404(user, project.id, role=needed).role == role


def test_a_viewer_is_the_default_need(project, member):
    assert project_for(member(VIEWER), project.id).role == VIEWER


@pytest.mark.parametrize(("role", "editable"), [(VIEWER, False), (EDITOR, True), (OWNER, True)])
def test_editors_and_the_owner_can_edit_the_graph_and_viewers_cannot(project, member, role, editable):
    assert can_edit(project_for(member(role), project.id)) is editable


def test_a_non_member_an_unknown_project_and_no_login_all_look_the_same(project, bob):
    unknown = ProjectFactory(owner=bob).id
    Project.objects.filter(pk=unknown).delete()

    for user, project_id in ((bob, project.id), (bob, unknown), (AnonymousUser(), project.id)):
        with pytest.raises(Project.DoesNotExist, match=r"^No such project\.$"):
            project_for(user, project_id)
        with pytest.raises(Http404, match=r"^No such project\.$"):
            project_or_404(user, project_id)


def test_a_membership_elsewhere_opens_only_that_project(project, bob):
    theirs = ProjectFactory(owner=bob)

    assert project_for(bob, theirs.id, role=OWNER).role == OWNER
    with pytest.raises(Project.DoesNotExist):
        project_for(bob, project.id)


def test_the_api_answers_a_refused_editor_with_a_403_and_changes_nothing(project, member):
    editor = Api(member(EDITOR))

    refused = editor.patch(f"/projects/{project.id}", {"name": "Mine now"})

    assert refused.status_code == 403
    assert error_of(refused) == {"code": "forbidden", "message": REFUSED[EDITOR, OWNER], "details": {}}
    project.refresh_from_db()
    assert project.name == "Alice's film"
