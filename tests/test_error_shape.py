"""Every refusal of the API is the one error shape, whatever was wrong with the request."""

import pytest
from django.test import Client

from generation.models import Run
from projects.models import ApiToken
from projects.tokens import create_token
from tests.api import Api, error_of
from tests.graphs import add

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("body", ["null", "[]", "123", '"x"', ""])
def test_a_run_request_that_is_not_an_object_is_a_422_and_runs_nothing(alice, project, redis, body):
    add(project, "prompt", "Line", text="A lighthouse")
    response = Api(alice).client.post(f"/api/v1/projects/{project.id}/runs", body, content_type="application/json")
    assert response.status_code == 422, response.content
    assert error_of(response)["details"]["fields"][0]["field"] == "body"
    assert not Run.objects.exists()


def test_running_everything_is_an_explicit_object(alice, project, redis):
    add(project, "prompt", "Line", text="A lighthouse")
    response = Api(alice).post(f"/projects/{project.id}/runs", {"targets": []})
    assert response.status_code == 200, response.content
    assert Run.objects.count() == 1


@pytest.mark.parametrize("method", ["get", "post", "delete"])
@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/projects/x/y/z", "/api/v2/projects", "/api/"])
def test_unknown_api_addresses_are_a_json_404(alice, method, path):
    response = getattr(Api(alice).client, method)(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert error_of(response)["code"] == "not_found"


def test_an_unknown_api_address_is_json_with_debug_on_too(settings):
    settings.DEBUG = True
    response = Client().get("/api/v1/nope")
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"


@pytest.mark.parametrize("path", ["/projects/{project}/assets", "/characters/search"])
def test_an_empty_multipart_body_names_the_file_field(alice, project, path):
    url = "/api/v1" + path.format(project=project.id)
    for content_type in ("multipart/form-data", "multipart/form-data; boundary=xyz"):
        response = Api(alice).client.post(url, b"", content_type=content_type)
        assert response.status_code in (400, 422), response.content
        error = error_of(response)
        assert [field["field"] for field in error["details"]["fields"]] == ["file"]
        assert "file" in error["message"]
    assert not project.assets.exists()


@pytest.mark.parametrize("revoke", ["abc", "", "-1", "99999999999999999999999"])
def test_revoking_a_token_that_is_not_one_is_a_message_not_a_500(alice, revoke):
    token, _ = create_token(alice, "laptop")
    client = Client()
    client.force_login(alice)
    response = client.post("/account/tokens/", {"revoke": revoke}, follow=True)
    assert response.status_code == 200
    assert "There is no such token" in response.content.decode()
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_a_method_an_api_address_does_not_take_is_a_json_405(alice):
    response = Api(alice).client.put("/api/v1/projects")
    assert response.status_code == 405
    error = error_of(response)
    assert error["code"] == "method_not_allowed" and "PUT is not allowed" in error["message"]
    assert set(response["Allow"].split(", ")) == {"GET", "POST"} == set(error["details"]["allowed"])
