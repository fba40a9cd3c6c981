"""Guessing passwords at speed: failed logins are counted per username and per client address, on
the login page and on POST /api/v1/tokens; past the limit both refuse with a 429, Retry-After and
the same words for unknown users and wrong passwords, even when the right password comes."""

import json

import pytest
from django.test import Client

from projects.models import ApiToken
from tests.api import error_of
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
LIMIT = 5
WAIT = "Too many failed logins for this username or from this address"


@pytest.fixture(autouse=True)
def limits(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT


def page_login(username: str, password: str, address: str = "10.0.0.1"):
    return Client(REMOTE_ADDR=address).post("/accounts/login/", {"username": username, "password": password})


def api_login(username: str, password: str, address: str = "10.0.0.1"):
    body = json.dumps({"username": username, "password": password, "name": "cli"})
    return Client(REMOTE_ADDR=address).post("/api/v1/tokens", body, content_type="application/json")


def test_the_login_page_locks_a_username_out_after_the_limit(alice):
    for _ in range(LIMIT - 1):
        assert page_login("alice", "wrong").status_code == 200  # the form again, with its error
    refused = page_login("alice", "wrong")
    assert refused.status_code == 429 and int(refused["Retry-After"]) == 15 * 60
    assert WAIT in refused.content.decode()
    right = page_login("alice", PASSWORD, address="10.0.0.2")  # another address: the username is locked
    assert right.status_code == 429 and "_auth_user_id" not in right.client.session


def test_the_token_endpoint_locks_a_username_out_after_the_limit(alice):
    for _ in range(LIMIT - 1):
        assert error_of(api_login("alice", "wrong"))["message"] == "Wrong username or password."
    assert api_login("alice", "wrong").status_code == 429  # the failure that reaches the limit
    refused = api_login("alice", PASSWORD, address="10.0.0.9")  # another address: the username is locked
    assert refused.status_code == 429
    error = error_of(refused)
    assert error["code"] == "locked_out" and WAIT in error["message"]
    assert error["details"]["retry_after_seconds"] == int(refused["Retry-After"]) == 15 * 60
    assert not ApiToken.objects.exists()


def test_one_address_trying_many_usernames_is_locked_out(alice):
    for index in range(LIMIT):
        api_login(f"user{index}", "wrong", address="10.0.0.7")
    assert api_login("alice", PASSWORD, address="10.0.0.7").status_code == 429
    assert page_login("alice", PASSWORD, address="10.0.0.7").status_code == 429
    assert api_login("alice", PASSWORD, address="10.0.0.8").status_code == 201  # alice herself is fine


def test_unknown_users_and_wrong_passwords_get_the_same_answers(alice):
    for username in ("alice", "nobody"):
        for _ in range(LIMIT - 1):
            assert error_of(api_login(username, "wrong", address=f"10.1.0.{len(username)}"))["message"] == (
                "Wrong username or password."
            )
    known, unknown = api_login("alice", "wrong", "10.2.0.1"), api_login("nobody", "wrong", "10.2.0.2")
    assert known.status_code == unknown.status_code == 429
    assert error_of(known) == error_of(unknown)


def test_a_success_before_the_limit_starts_the_count_again(alice):
    for _ in range(LIMIT - 1):
        api_login("alice", "wrong")
    assert api_login("alice", PASSWORD).status_code == 201
    for _ in range(LIMIT - 1):
        assert api_login("alice", "wrong").status_code == 401


def test_staff_see_and_clear_lockouts_in_the_admin(alice):
    for _ in range(LIMIT):
        api_login("alice", "wrong", address="10.3.0.1")
    admin = Client()
    admin.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    listing = admin.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200
    assert "alice" in listing.content.decode() and "10.3.0.1" in listing.content.decode()
