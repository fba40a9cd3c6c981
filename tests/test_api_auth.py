import pytest
from django.test import Client

from projects.models import ApiToken
from projects.tokens import create_token, digest
from tests.api import Api, error_of
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_a_token_is_given_once_for_a_username_and_password_and_stored_hashed(alice):
    response = Api().post("/tokens", {"username": "alice", "password": PASSWORD, "name": "laptop"})

    assert response.status_code == 201
    body = response.json()
    assert body["token"].startswith("rg_") and body["name"] == "laptop"
    stored = ApiToken.objects.get(pk=body["id"])
    assert stored.digest == digest(body["token"]) and body["token"] not in (stored.digest, stored.prefix)
    listed = Api(alice).get("/tokens").json()
    assert "token" not in listed[0] and {t["name"] for t in listed} == {"laptop", "tests"}


def test_a_wrong_password_gets_no_token(alice):
    response = Api().post("/tokens", {"username": "alice", "password": "nope", "name": "x"})

    assert response.status_code == 401
    assert error_of(response)["message"] == "Wrong username or password."


def test_a_bearer_token_authenticates_and_a_revoked_one_does_not(alice):
    api = Api(alice)
    assert api.get("/projects").status_code == 200
    token_id = next(t["id"] for t in api.get("/tokens").json() if t["name"] == "tests")

    assert api.delete(f"/tokens/{token_id}").status_code == 204

    response = api.get("/projects")
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"


def test_a_write_with_a_revoked_token_and_no_session_is_a_401_not_a_csrf_refusal(alice):
    api = Api(alice)
    token_id = next(t["id"] for t in api.get("/tokens").json() if t["name"] == "tests")
    api.delete(f"/tokens/{token_id}")
    strict = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=api.client.defaults["HTTP_AUTHORIZATION"])

    response = strict.post("/api/v1/projects", {"name": "x"}, content_type="application/json")

    # The client has no session, so a CSRF token would not help it: it must log in or send a valid token.
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"
    assert not alice.owned_projects.exists()


def test_nobody_can_revoke_another_users_token(alice, bob):
    token, _ = create_token(alice, "alice's")

    assert Api(bob).delete(f"/tokens/{token.id}").status_code == 404
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_anonymous_requests_get_the_standard_401(client):
    response = client.get("/api/v1/projects")

    assert response.status_code == 401
    assert "Bearer" in error_of(response)["message"]


def test_the_browser_session_works_and_needs_the_csrf_token_to_write(alice):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    assert browser.get("/api/v1/projects").status_code == 200

    refused = browser.post("/api/v1/projects", {"name": "x"}, content_type="application/json")
    assert refused.status_code == 403
    assert error_of(refused)["code"] == "forbidden"

    browser.get("/projects/")  # a page sets the CSRF cookie, as the canvas does
    token = browser.cookies["csrftoken"].value
    accepted = browser.post(
        "/api/v1/projects", {"name": "x"}, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert accepted.status_code == 201


def test_health_needs_no_login_and_reports_each_part(client, redis):
    body = client.get("/api/v1/health").json()

    assert body["status"] == "ok" and body["database"] == "ok" and body["redis"] == "ok"
    assert isinstance(body["workers"], int)


def test_the_openapi_schema_and_the_docs_are_served(client):
    schema = client.get("/api/v1/openapi.json").json()

    assert schema["info"]["title"] == "Reelgraph API"
    assert "/api/v1/projects/{project_id}/runs" in schema["paths"]
    assert client.get("/api/v1/docs").status_code == 200


def test_tokens_are_made_shown_once_listed_and_revoked_on_their_page(client, alice):
    client.force_login(alice)

    made = client.post("/account/tokens/", {"name": "render script"})
    secret = made.context["secret"]
    assert secret.startswith("rg_") and secret.encode() in made.content
    page = client.get("/account/tokens/")
    assert secret.encode() not in page.content and b"render script" in page.content
    assert Api().client.get("/api/v1/projects", headers={"Authorization": f"Bearer {secret}"}).status_code == 200

    token = ApiToken.objects.get(name="render script")
    client.post("/account/tokens/", {"revoke": token.id})
    assert not ApiToken.objects.filter(pk=token.pk).exists()
    assert Api().client.get("/api/v1/projects", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_a_token_cannot_be_revoked_from_another_account(client, alice, bob):
    token, _ = create_token(alice, "alice's")
    client.force_login(bob)

    client.post("/account/tokens/", {"revoke": token.id})

    assert ApiToken.objects.filter(pk=token.pk).exists()
