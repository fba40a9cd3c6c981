import pytest
from asgiref.sync import async_to_sync, sync_to_async

from projects.models import Membership, Project
from tests.api import Api, error_of
from tests.factories import ProjectFactory, UserFactory
from tests.graphs import add, upload
from tests.unchanged import changes_since, snapshot
from tests.websockets import headers_for, next_close, next_event, project_socket

pytestmark = pytest.mark.django_db


def test_a_user_creates_lists_reads_renames_and_deletes_a_project(alice):
    api = Api(alice)

    created = api.post("/projects", {"name": "  Night swim  "})
    assert created.status_code == 201
    project = created.json()
    assert (project["name"], project["owner"], project["role"]) == ("Night swim", "alice", "owner")

    listed = api.get("/projects").json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == project["id"]
    assert api.get(f"/projects/{project['id']}").json()["name"] == "Night swim"
    assert api.patch(f"/projects/{project['id']}", {"name": "Night dive"}).json()["name"] == "Night dive"
    assert list(Project.objects.values_list("name", "owner__username")) == [("Night dive", "alice")]
    assert list(Membership.objects.values_list("user__username", "role")) == [("alice", "owner")]
    assert api.delete(f"/projects/{project['id']}").status_code == 204
    assert not Project.objects.exists()


def test_the_project_list_is_paginated(alice):
    for n in range(3):
        ProjectFactory(owner=alice, name=f"Film {n}")

    page = Api(alice).get("/projects", page=2, page_size=2).json()

    assert page["count"] == 3 and len(page["items"]) == 1


def test_a_project_name_is_required(alice):
    before = snapshot()
    response = Api(alice).post("/projects", {"name": "   "})

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid" and error["details"]["fields"][0]["field"] == "name"
    assert changes_since(before) == {}  # no project, no membership


def test_another_users_project_is_a_404_for_every_verb(project, alice, bob):
    add(project, "prompt", "Line", text="x")
    upload(project)
    api = Api(bob)
    path = f"/projects/{project.id}"
    before = snapshot()

    for response in (
        api.get(path),
        api.patch(path, {"name": "mine"}),
        api.delete(path),
        api.get(path + "/members"),
        api.post(path + "/members", {"username": "bob", "role": "editor"}),
        api.delete(f"{path}/members/{alice.id}"),
    ):
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"
    assert Project.objects.filter(pk=project.pk, name="Alice's film").exists()
    assert changes_since(before) == {}  # its nodes, files and members too


def test_a_viewer_reads_but_cannot_rename_or_delete(project, bob, add_member):
    add_member(bob, Membership.Role.VIEWER)
    upload(project)
    api = Api(bob)
    before = snapshot()

    assert api.get(f"/projects/{project.id}").json()["role"] == "viewer"
    refused = api.patch(f"/projects/{project.id}", {"name": "mine"})
    assert refused.status_code == 403
    assert error_of(refused)["message"] == "You are a viewer of this project: only the owner can manage it."
    assert api.delete(f"/projects/{project.id}").status_code == 403
    assert api.patch(f"/projects/{project.id}/members/{bob.id}", {"role": "editor"}).status_code == 403
    assert changes_since(before) == {}  # the name, the project's file, bob's role


def test_the_owner_manages_members(project, alice, bob):
    api = Api(alice)

    added = api.post(f"/projects/{project.id}/members", {"username": "bob", "role": "viewer"})
    assert added.status_code == 201 and added.json()["role"] == "viewer"
    assert project.memberships.get(user=bob).role == Membership.Role.VIEWER
    before = snapshot()
    twice = api.post(f"/projects/{project.id}/members", {"username": "bob", "role": "editor"})
    assert twice.status_code == 409 and error_of(twice)["code"] == "already_member"
    assert changes_since(before) == {}  # still one membership, still a viewer
    assert api.patch(f"/projects/{project.id}/members/{bob.id}", {"role": "editor"}).json()["role"] == "editor"
    assert project.memberships.get(user=bob).role == Membership.Role.EDITOR
    members = api.get(f"/projects/{project.id}/members").json()
    assert [(m["username"], m["role"]) for m in members] == [("alice", "owner"), ("bob", "editor")]
    assert api.delete(f"/projects/{project.id}/members/{bob.id}").status_code == 204
    assert not project.memberships.filter(user=bob).exists()


def test_adding_an_unknown_user_names_the_field(project, alice):
    before = snapshot()
    response = Api(alice).post(f"/projects/{project.id}/members", {"username": "nobody", "role": "viewer"})

    assert response.status_code == 422
    assert error_of(response)["details"]["fields"] == [{"field": "username", "message": "unknown"}]
    assert changes_since(before) == {}


def test_members_cannot_add_members_and_the_owner_cannot_be_removed(project, alice, bob, add_member):
    add_member(bob, Membership.Role.EDITOR)
    carol = UserFactory(username="carol")
    before = snapshot()

    assert Api(bob).post(f"/projects/{project.id}/members", {"username": "carol", "role": "viewer"}).status_code == 403
    assert Api(bob).patch(f"/projects/{project.id}/members/{bob.id}", {"role": "viewer"}).status_code == 403
    assert Api(alice).delete(f"/projects/{project.id}/members/{alice.id}").status_code == 422
    assert changes_since(before) == {}  # alice still owns it; bob is still an editor
    assert Api(bob).delete(f"/projects/{project.id}/members/{bob.id}").status_code == 204  # leaving is allowed
    assert not Membership.objects.filter(user=carol).exists()


def seen_by_member(project, member, change, read):
    """What `member`'s open canvas receives (`read` from its socket) after `change()` runs."""
    headers = headers_for(member)

    async def scenario():
        socket = project_socket(project.id, headers)
        assert (await socket.connect())[0]
        await socket.receive_json_from()  # the snapshot
        await sync_to_async(change)()
        output = await read(socket)
        await socket.disconnect()
        return output

    return async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_a_removed_member_loses_the_live_channel_at_once(project, alice, bob, add_member, redis):
    add_member(bob, Membership.Role.VIEWER)
    remove = lambda: Api(alice).delete(f"/projects/{project.id}/members/{bob.id}")  # noqa: E731

    assert seen_by_member(project, bob, remove, next_close) == {"type": "websocket.close", "code": 4403}


@pytest.mark.django_db(transaction=True)
def test_a_role_change_reaches_the_members_open_canvas(project, alice, bob, add_member, redis):
    add_member(bob, Membership.Role.VIEWER)
    promote = lambda: Api(alice).patch(f"/projects/{project.id}/members/{bob.id}", {"role": "editor"})  # noqa: E731

    event = seen_by_member(project, bob, promote, next_event)

    assert event == {"type": "member.changed", "user_id": bob.id, "role": "editor"}


def test_a_page_number_past_the_last_possible_is_a_422_naming_page(alice, project):
    api = Api(alice)

    for path in ("/projects", f"/projects/{project.id}/assets", "/jobs", "/characters"):
        response = api.get(path, page=10**22)
        assert response.status_code == 422, (path, response.content)
        assert error_of(response)["details"]["fields"][0]["field"].endswith("page")
    assert api.get("/projects", page=10_000).json() == {"items": [], "count": 1}
