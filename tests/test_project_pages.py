import pytest
from django.urls import reverse

from projects.models import Membership, Project
from tests.factories import ProjectFactory

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

    response = client.post(reverse("project-list"), {"name": ""})

    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    assert not Project.objects.exists()


def test_a_member_opens_the_project(client, alice, project):
    client.force_login(alice)

    response = client.get(reverse("project-detail", args=[project.id]))

    assert response.status_code == 200
    assert f'data-project-live="{project.id}"'.encode() in response.content


def test_another_users_project_is_a_404(client, bob, project):
    client.force_login(bob)

    assert client.get(reverse("project-detail", args=[project.id])).status_code == 404
