from pathlib import Path

import pytest
from django.urls import reverse

from projects.models import Membership, Project
from tests.factories import ProjectFactory
from tests.graphs import add, upload, wire
from tests.unchanged import changes_since, snapshot

pytestmark = pytest.mark.django_db


def test_the_project_list_needs_a_login(client):
    response = client.get(reverse("project-list"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_project_list_shows_the_users_projects_only(client, alice, bob, project):
    ProjectFactory(owner=bob, name="Bob's secret film")
    client.force_login(alice)

    response = client.get(reverse("project-list"))

    assert list(response.context["projects"]) == [project]
    assert b"Bob&#x27;s secret film" not in response.content


def test_a_project_shared_with_a_user_is_in_their_list(client, bob, project, add_member):
    add_member(bob, Membership.Role.VIEWER)
    client.force_login(bob)

    assert list(client.get(reverse("project-list")).context["projects"]) == [project]


def test_creating_a_project_makes_the_creator_its_owner(client, alice):
    client.force_login(alice)

    response = client.post(reverse("project-list"), {"name": "Night swim"})

    project = Project.objects.get(name="Night swim")
    assert response["Location"] == reverse("project-detail", args=[project.id])
    assert project.owner == alice
    assert project.memberships.get().role == Membership.Role.OWNER


def test_a_project_needs_a_name(client, alice):
    client.force_login(alice)
    before = snapshot()

    response = client.post(reverse("project-list"), {"name": ""})

    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    assert not Project.objects.exists()
    assert changes_since(before) == {}


def test_an_empty_name_is_refused_once_beside_the_new_project_form(client, alice, project):
    """Not again under the cards of the projects already listed (the rename fields)."""
    client.force_login(alice)
    before = snapshot()

    response = client.post(reverse("project-list"), {"name": ""})

    message = response.context["form"].errors["name"][0]
    assert response.content.decode().count(message) == 1
    assert f'id="title-{project.id}"'.encode() in response.content  # the card is there, without it
    assert changes_since(before) == {}


def test_a_member_opens_the_project(client, alice, project):
    client.force_login(alice)

    response = client.get(reverse("project-detail", args=[project.id]))

    assert response.status_code == 200
    assert f'data-project="{project.id}"'.encode() in response.content


def test_another_users_project_is_a_404(client, bob, project):
    client.force_login(bob)

    assert client.get(reverse("project-detail", args=[project.id])).status_code == 404


# Project settings, rename, duplicate, delete ----------------------------------------------------


def test_the_owner_adds_a_member_changes_their_role_and_removes_them(client, alice, bob, project):
    client.force_login(alice)
    url = reverse("project-settings", args=[project.id])

    added = client.post(url, {"action": "add", "username": "bob", "role": "viewer"})
    membership = project.memberships.get(user=bob)
    changed = client.post(url, {"action": "role", "membership": membership.id, "role": "editor"})
    role_after_change = project.memberships.get(user=bob).role
    removed = client.post(url, {"action": "remove", "membership": membership.id})

    assert (added.status_code, changed.status_code, removed.status_code) == (302, 302, 302)
    assert membership.role == Membership.Role.VIEWER
    assert role_after_change == Membership.Role.EDITOR
    assert not project.memberships.filter(user=bob).exists()


def test_adding_an_unknown_or_existing_member_names_the_field(client, alice, bob, project, add_member):
    add_member(bob, Membership.Role.VIEWER)
    client.force_login(alice)
    url = reverse("project-settings", args=[project.id])
    before = snapshot()

    unknown = client.post(url, {"action": "add", "username": "nobody", "role": "viewer"})
    existing = client.post(url, {"action": "add", "username": "bob", "role": "editor"})

    assert unknown.context["form"].errors == {"username": ["No user has this name."]}
    assert existing.context["form"].errors == {"username": ["Already a member."]}
    assert project.memberships.get(user=bob).role == Membership.Role.VIEWER
    assert changes_since(before) == {}


def test_the_owners_membership_cannot_be_changed_or_removed_from_the_page(client, alice, project):
    client.force_login(alice)
    owner = project.memberships.get(user=alice)
    url = reverse("project-settings", args=[project.id])
    before = snapshot()

    assert client.post(url, {"action": "remove", "membership": owner.id}).status_code == 404
    assert client.post(url, {"action": "role", "membership": "not-a-number", "role": "viewer"}).status_code == 404
    assert project.memberships.get(user=alice).role == Membership.Role.OWNER
    assert changes_since(before) == {}


def test_an_editor_sees_the_members_but_cannot_manage_them(client, alice, bob, project, add_member):
    bob_membership = add_member(bob, Membership.Role.EDITOR)
    carol = ProjectFactory(owner__username="carol").owner
    client.force_login(bob)
    url = reverse("project-settings", args=[project.id])
    before = snapshot()

    page = client.get(url)
    refused = client.post(url, {"action": "add", "username": "carol", "role": "viewer"})
    promoted = client.post(url, {"action": "role", "membership": bob_membership.id, "role": "viewer"})

    assert page.status_code == 200
    assert [m.user.username for m in page.context["members"]] == ["alice", "bob"]
    assert refused.status_code == 403 and promoted.status_code == 403
    assert changes_since(before) == {} and not project.memberships.filter(user=carol).exists()


def test_a_member_leaves_but_the_owner_cannot(client, alice, bob, project, add_member):
    add_member(bob, Membership.Role.VIEWER)
    url = reverse("project-settings", args=[project.id])

    client.force_login(bob)
    left = client.post(url, {"action": "leave"})
    client.force_login(alice)
    before = snapshot()
    owner_tries = client.post(url, {"action": "leave"})
    assert changes_since(before) == {}  # alice still owns it

    assert left["Location"] == reverse("project-list")
    assert not project.memberships.filter(user=bob).exists()
    assert owner_tries.status_code == 403


def test_only_the_owner_renames_and_a_bad_name_is_refused(client, alice, bob, project, add_member):
    add_member(bob, Membership.Role.EDITOR)
    url = reverse("project-rename", args=[project.id])

    client.force_login(bob)
    before = snapshot()
    by_editor = client.post(url, {"name": "Mine now"})
    assert changes_since(before) == {}
    client.force_login(alice)
    before = snapshot()
    empty = client.post(url, {"name": ""}, headers={"HX-Request": "true"})
    assert changes_since(before) == {}
    renamed = client.post(url, {"name": "Night swim, take 2"}, headers={"HX-Request": "true"})

    assert by_editor.status_code == 403
    assert empty.status_code == 200 and "name" in empty.context["rename_form"].errors
    assert empty.content.count(b'role="alert"') == 1
    assert b"Night swim, take 2" in renamed.content
    project.refresh_from_db()
    assert project.name == "Night swim, take 2"


def test_duplicating_copies_the_graph_and_its_files_but_no_outputs(client, alice, project):
    image = add(project, "image", asset_id=str(upload(project).id))
    prompt = add(project, "prompt", text="She looks up at the stars")
    wire(image, "image", prompt, "image")
    prompt.output = {"text": "an enhanced line"}
    prompt.save()
    client.force_login(alice)

    response = client.post(reverse("project-duplicate", args=[project.id]))

    copy = Project.objects.exclude(pk=project.pk).get()
    assert response["Location"] == reverse("project-list")
    assert copy.name == f"{project.name} (copy)"
    assert sorted(copy.nodes.values_list("type", flat=True)) == ["image", "prompt"]
    assert copy.edges.count() == 1
    copied_image = copy.nodes.get(type="image")
    copied_asset = copy.assets.get()
    assert copied_image.params["asset_id"] == str(copied_asset.id)
    assert copied_asset.sha256 == project.assets.get().sha256
    original = project.assets.get()
    assert copied_asset.file.name != original.file.name  # its own file: deleting one project keeps the other's
    assert Path(copied_asset.file.path).read_bytes() == Path(original.file.path).read_bytes()
    assert copy.nodes.get(type="prompt").output == {}


def test_deleting_asks_first_and_only_the_owner_can(client, alice, bob, project, add_member):
    add_member(bob, Membership.Role.EDITOR)
    url = reverse("project-delete", args=[project.id])

    upload(project)
    client.force_login(bob)
    before = snapshot()
    by_editor = client.post(url)
    assert changes_since(before) == {}  # the project, its members and its file
    client.force_login(alice)
    confirm = client.get(url)
    still_there = Project.objects.filter(pk=project.pk).exists()
    deleted = client.post(url)

    assert by_editor.status_code == 403
    assert confirm.status_code == 200 and confirm.context["counts"]["members"] == 2
    assert still_there
    assert deleted["Location"] == reverse("project-list")
    assert not Project.objects.filter(pk=project.pk).exists()


def test_another_users_project_pages_are_404s(client, bob, project):
    add(project, "prompt", text="x")
    client.force_login(bob)
    before = snapshot()

    for name in ("project-settings", "project-delete", "project-duplicate", "project-rename"):
        response = client.post(reverse(name, args=[project.id]), {"name": "x"})
        assert response.status_code == 404, name
    assert changes_since(before) == {}  # not renamed, deleted or copied


def test_the_favicon_is_served_and_linked(client, alice):
    icon = client.get("/favicon.ico")

    assert icon.status_code == 200 and icon["Content-Type"] == "image/svg+xml"
    assert icon.content.startswith(b"<svg") and b"</svg>" in icon.content
    client.force_login(alice)
    assert b'rel="icon"' in client.get(reverse("project-list")).content
