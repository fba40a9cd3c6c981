import json

import pytest
from django.urls import reverse

from projects.models import Membership
from tests.graphs import add
from tests.unchanged import changes_since, snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def video(project):
    return add(project, "video", title="Opening shot")


def url(node):
    return reverse("inspector", args=[node.project_id, node.id])


def form(node, **values):
    defaults = {"model": "veo-3.1-generate-preview", "aspect_ratio": "16:9", "resolution": "720p"}
    return {
        "version": node.version,
        "title": node.title,
        **defaults,
        "duration_seconds": "8",
        "variations": "1",
        **values,
    }


def test_the_inspector_shows_the_fields_of_the_node_types_params(client, alice, video):
    client.force_login(alice)

    response = client.get(url(video))

    fields = {field.name: field for field in response.context["fields"]}
    assert list(fields) == ["model", "aspect_ratio", "resolution", "duration_seconds", "negative_prompt", "variations"]
    assert (fields["variations"].widget, fields["variations"].value) == ("number", 1)
    assert fields["duration_seconds"].widget == "select"
    assert [value for value, _ in fields["duration_seconds"].choices] == ["4", "6", "8"]
    assert fields["duration_seconds"].value == "8"
    assert fields["negative_prompt"].help == "What the video should not show."


def test_saving_valid_settings_updates_the_node_and_tells_the_canvas(client, alice, video):
    client.force_login(alice)

    response = client.post(url(video), form(video, duration_seconds="6", aspect_ratio="9:16", title="Cold open"))

    video.refresh_from_db()
    assert response.context["notice"] == "Saved."
    assert (video.title, video.params["duration_seconds"], video.params["aspect_ratio"]) == ("Cold open", 6, "9:16")
    assert video.version == 2  # one edit, so a stale canvas finds out
    saved = json.loads(response["HX-Trigger"])["node-saved"]
    assert saved["before"]["params"].get("duration_seconds", 8) == 8
    assert saved["after"]["params"]["duration_seconds"] == 6


def test_an_invalid_value_is_shown_next_to_its_field_and_nothing_is_saved(client, alice, video):
    client.force_login(alice)
    before = (video.version, dict(video.params))
    rows = snapshot()

    response = client.post(url(video), form(video, duration_seconds="5", negative_prompt="x" * 1001))

    fields = {field.name: field for field in response.context["fields"]}
    assert fields["duration_seconds"].error
    assert fields["negative_prompt"].error
    assert fields["negative_prompt"].value == "x" * 1001  # what was typed stays, to be corrected
    assert not fields["model"].error
    assert "HX-Trigger" not in response
    video.refresh_from_db()
    assert (video.version, video.params) == before
    assert changes_since(rows) == {}  # nor its title


def test_a_stale_save_reloads_the_other_persons_settings_instead_of_overwriting_them(client, alice, video):
    client.force_login(alice)
    stale = form(video, duration_seconds="4")
    client.post(url(video), form(video, duration_seconds="6"))  # someone else's edit lands first
    before = snapshot()

    response = client.post(url(video), stale)

    video.refresh_from_db()
    assert video.params["duration_seconds"] == 6
    assert "Someone else changed this node" in response.context["notice"]
    assert {f.name: f.value for f in response.context["fields"]}["duration_seconds"] == "6"
    assert changes_since(before) == {} and "HX-Trigger" not in response  # no save for the canvas to show


def test_a_viewer_reads_the_settings_but_cannot_save_them(client, bob, video, add_member):
    add_member(bob, Membership.Role.VIEWER)
    client.force_login(bob)
    before = snapshot()

    page = client.get(url(video))
    refused = client.post(url(video), form(video, duration_seconds="4", title="Bob's cut"))

    assert page.status_code == 200 and page.context["can_edit"] is False
    assert refused.status_code == 403
    video.refresh_from_db()
    assert video.params.get("duration_seconds", 8) == 8
    assert changes_since(before) == {}  # title and version too


def test_another_users_node_is_a_404(client, bob, video):
    client.force_login(bob)
    before = snapshot()

    assert client.get(url(video)).status_code == 404
    assert client.post(url(video), form(video, title="Bob's cut")).status_code == 404
    assert changes_since(before) == {}


def test_settings_that_break_a_rule_are_saved_but_shown_at_the_field(client, alice, video):
    client.force_login(alice)

    response = client.post(url(video), form(video, resolution="1080p", duration_seconds="4"))

    video.refresh_from_db()
    assert (video.params["resolution"], video.params["duration_seconds"]) == ("1080p", 4)  # kept, as typed
    assert response.context["notice"] != "Saved."
    assert response.context["notice"].startswith("Saved, but this node cannot run like this")
    fields = {field.name: field for field in response.context["fields"]}
    assert (
        fields["duration_seconds"].error
        == "1080p videos are 8 seconds long: set the duration to 8 s or the resolution to 720p."
    )
    html = response.content.decode()
    assert 'id="param-duration_seconds-error"' in html and "1080p videos are 8 seconds long" in html
    again = client.get(url(video))  # and on opening the node again
    assert {field.name: field.error for field in again.context["fields"]}["duration_seconds"].startswith("1080p")
    assert "This node cannot run like this" in again.content.decode()
