import pytest
from django.contrib import admin
from django.urls import reverse

from assets.models import Asset
from characters.models import Character
from generation.models import Job, Run
from nodes.models import Edge, Node, Take
from projects.models import ApiToken, Membership, Project
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

MODELS = [Project, Membership, Asset, ApiToken, Node, Edge, Take, Character, Run, Job]


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_model_is_in_the_admin(admin_client, project, model):
    assert admin.site.is_registered(model)
    opts = model._meta

    response = admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))

    assert response.status_code == 200


def test_the_admin_refuses_an_ordinary_user(client, alice):
    client.force_login(alice)

    response = client.get(reverse("admin:index"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_the_rq_dashboard_is_for_staff_only(client, alice, admin_client, redis):
    assert admin_client.get("/admin/rq/").status_code == 200
    client.logout()
    client.force_login(alice)
    assert client.get("/admin/rq/").status_code == 302
