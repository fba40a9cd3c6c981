"""Text PostgreSQL cannot store (NUL; an unpaired surrogate) is refused where it enters, on every
input path, with a 422 (API) or 400 (pages) naming the field; nothing of it reaches a query."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from nodes.models import Node
from projects.models import ApiToken, Project
from tests.api import Api, error_of
from tests.factories import PASSWORD
from tests.graphs import FIXTURES, add

pytestmark = pytest.mark.django_db


def refused_field(response) -> str:
    assert response.status_code == 422, response.content
    error = error_of(response)
    assert error["code"] == "invalid"
    [field] = error["details"]["fields"]
    assert field["field"] in error["message"]
    return field["field"]


def test_a_nul_in_a_login_is_refused_before_any_query(alice):
    body = json.dumps({"username": "ali\u0000ce", "password": PASSWORD, "name": "laptop"})
    response = Client().post("/api/v1/tokens", body, content_type="application/json")
    assert refused_field(response) == "username"
    assert "NUL" in error_of(response)["message"]
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize("path", ["/jobs", "/projects/{project}/assets"])
def test_a_nul_in_a_query_parameter_names_the_parameter(alice, project, path):
    response = Api(alice).client.get("/api/v1" + path.format(project=project.id) + "?status=a%00b&kind=a%00b")
    assert refused_field(response) in ("status", "kind")


def test_nul_and_surrogates_deep_in_json_name_their_field(alice, project):
    api = Api(alice)
    nul = api.post(f"/projects/{project.id}/nodes", {"type": "prompt", "params": {"text": "a\u0000b"}})
    assert refused_field(nul) == "params.text"
    surrogate = api.post(f"/projects/{project.id}/nodes", {"type": "prompt", "title": "\ud800"})
    assert refused_field(surrogate) == "title"
    assert "U+D800" in error_of(surrogate)["message"]
    key = api.post(f"/projects/{project.id}/nodes", {"type": "prompt", "params": {"te\u0000xt": "a"}})
    assert refused_field(key).startswith("params.")
    assert not Node.objects.filter(project=project).exists()


def test_a_surrogate_pair_is_text_and_is_kept(alice, project):
    response = Api(alice).post(f"/projects/{project.id}/nodes", {"type": "prompt", "title": "Shot \U0001f3ac"})
    assert response.status_code == 201, response.content
    assert Node.objects.get(project=project).title == "Shot \U0001f3ac"


def test_a_nul_in_a_multipart_file_name_never_reaches_the_database(alice, project):
    photo = SimpleUploadedFile("astro\x00naut.png", (FIXTURES / "astronaut.png").read_bytes(), "image/png")
    response = Api(alice).upload(f"/projects/{project.id}/assets", photo)
    assert response.status_code in (201, 422), response.content
    assert all("\x00" not in asset.original_name for asset in project.assets.all())


@pytest.mark.parametrize("content_type", ["multipart/form-data", "application/x-www-form-urlencoded"])
def test_a_nul_in_a_form_field_of_a_page_is_a_400_naming_it(alice, content_type):
    client = Client()
    client.force_login(alice)
    if content_type == "multipart/form-data":
        response = client.post("/projects/", {"name": "Film\x00"})
    else:
        response = client.post("/projects/", "name=Film%00", content_type=content_type)
    assert response.status_code == 400
    assert "name: contains a NUL character" in response.content.decode()
    assert not Project.objects.filter(owner=alice).exists()


def test_a_session_cookie_with_a_nul_is_no_session(alice):
    client = Client()
    client.cookies["sessionid"] = "abcdefgh\x00ijk"
    response = client.get("/projects/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_an_unparseable_body_gets_the_friendly_message_with_debug_on(alice, project, settings):
    settings.DEBUG = True
    response = Api(alice).client.post(f"/api/v1/projects/{project.id}/nodes", "{bad", content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["message"].startswith("The request body is not valid JSON")


def test_a_multipart_body_sent_to_a_json_endpoint_is_a_400(alice, project):
    response = Api(alice).client.post(f"/api/v1/projects/{project.id}/nodes", {"type": "prompt"})
    assert response.status_code == 400
    assert "application/json" in error_of(response)["message"]
    assert not Node.objects.filter(project=project).exists()


def test_a_node_added_with_storable_text_still_works(alice, project):
    add(project, "prompt", "Line", text="A lighthouse")
    assert Api(alice).get(f"/projects/{project.id}/graph").status_code == 200
