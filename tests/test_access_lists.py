"""What the access matrix cannot see from status codes: what lists contain for an outsider, member
operations aimed at the owner's own membership, and a suspended user's live channel."""

import numpy as np
import pytest
from asgiref.sync import async_to_sync

from characters.models import Character
from generation.models import Job, Run
from projects.models import Membership
from tests.api import Api, error_of
from tests.graphs import add, upload
from tests.websockets import headers_for, project_socket

pytestmark = pytest.mark.django_db


def listed(api: Api, path: str) -> list:
    body = api.client.get("/api/v1" + path).json()
    return body["items"] if isinstance(body, dict) else body


def test_an_outsiders_lists_show_nothing_of_the_owners(project, alice, bob):
    video = add(project, "video", "Shot", duration_seconds=4)
    run = Run.objects.create(project=project, created_by=alice)
    Job.objects.create(project=project, node=video, run=run, queue="video", created_by=alice)
    Character.objects.create(
        owner=alice, name="Ada", embedding=np.random.default_rng(1).normal(size=512), source_asset=upload(project)
    )
    outsider, owner = Api(bob), Api(alice)
    for path in ("/jobs", "/characters", "/projects", f"/jobs?project={project.id}"):
        assert listed(outsider, path) == [], path
        assert listed(owner, path) != [], path  # there is something to hide


@pytest.mark.parametrize(
    ("role", "method", "status"),
    [
        ("owner", "patch", 422),
        ("owner", "delete", 422),
        ("editor", "patch", 403),
        ("editor", "delete", 403),
        ("outsider", "patch", 404),
        ("outsider", "delete", 404),
    ],
)
def test_nobody_changes_or_removes_the_owners_own_membership(project, alice, bob, add_member, role, method, status):
    if role == "editor":
        add_member(bob, Membership.Role.EDITOR)
    caller = Api(alice if role == "owner" else bob)
    url = f"/projects/{project.id}/members/{alice.id}"
    response = caller.patch(url, {"role": "viewer"}) if method == "patch" else caller.delete(url)
    assert response.status_code == status, response.content
    error_of(response)
    assert Membership.objects.get(project=project, user=alice).role == Membership.Role.OWNER


def test_a_suspended_users_live_channel_is_refused(project, bob, add_member, redis):
    add_member(bob, Membership.Role.EDITOR)
    headers = headers_for(bob)  # a session made while active
    bob.is_active = False
    bob.save(update_fields=["is_active"])

    async def scenario():
        socket = project_socket(project.id, headers)
        accepted, code = await socket.connect()
        return accepted, code

    accepted, code = async_to_sync(scenario)()
    assert not accepted and code == 4403
