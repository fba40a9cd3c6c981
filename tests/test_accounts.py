import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_the_home_page_sends_a_visitor_to_the_login_page(client):
    response = client.get("/", follow=True)

    assert response.redirect_chain[-1][0] == reverse("login")
    assert b"Log in to Reelgraph" in response.content


def test_a_visitor_can_sign_up_and_is_logged_in(client):
    response = client.post(
        reverse("signup"),
        {"username": "carol", "password1": "a-long-fresh-passphrase", "password2": "a-long-fresh-passphrase"},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == reverse("project-list")
    assert response.context["user"].username == "carol"
    assert get_user_model().objects.filter(username="carol").exists()


def test_sign_up_names_the_field_that_is_wrong(client):
    response = client.post(
        reverse("signup"),
        {"username": "carol", "password1": "a-long-fresh-passphrase", "password2": "something-else-entirely"},
    )

    assert response.status_code == 200
    assert "password2" in response.context["form"].errors
    assert b"id_password2_errors" in response.content
    assert not get_user_model().objects.filter(username="carol").exists()


def test_sign_up_refuses_a_taken_username(client, alice):
    response = client.post(
        reverse("signup"),
        {"username": "alice", "password1": "a-long-fresh-passphrase", "password2": "a-long-fresh-passphrase"},
    )

    assert "username" in response.context["form"].errors


def test_a_user_logs_in_and_out(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("project-list")
    assert response.context["user"] == alice

    response = client.post(reverse("logout"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("login")
    assert not response.context["user"].is_authenticated


def test_a_wrong_password_is_refused_with_a_message(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": "nope"})

    assert response.status_code == 200
    assert not response.context["user"].is_authenticated
    assert b"Please enter a correct username and password" in response.content


def test_login_and_signup_forms_carry_a_csrf_token(client):
    for url in (reverse("login"), reverse("signup")):
        assert b'name="csrfmiddlewaretoken"' in client.get(url).content


def test_logout_by_get_is_not_allowed(client, alice):
    client.force_login(alice)

    assert client.get(reverse("logout")).status_code == 405
