"""Sticky notes: written by editors and owners, read by every member, live for everyone with the canvas open."""

import pytest
from asgiref.sync import async_to_sync, sync_to_async

from nodes.models import Note
from projects.models import Membership
from tests.api import Api, error_of
from tests.unchanged import changes_since, snapshot
from tests.websockets import headers_for, next_event, project_socket

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(alice):
    return Api(alice)


def notes_url(project, note=None) -> str:
    return f"/projects/{project.id}/notes" + (f"/{note}" if note else "")


def test_a_note_is_written_moved_recoloured_and_deleted(api, project):
    created = api.post(notes_url(project), {"text": "Shoot at dawn", "x": 120, "y": -40})

    assert created.status_code == 201
    note = created.json()
    assert (note["text"], note["x"], note["y"], note["color"], note["version"], note["created_by"]) == (
        "Shoot at dawn", 120, -40, "yellow", 1, "alice",
    )  # fmt: skip
    assert (note["width"], note["height"]) == (220, 160)
    assert list(Note.objects.values_list("text", "x", "y", "color", "created_by__username")) == [
        ("Shoot at dawn", 120, -40, "yellow", "alice")
    ]

    moved = api.patch(notes_url(project, note["id"]), {"version": 1, "x": 300, "color": "pink", "width": 400})
    assert moved.status_code == 200
    assert (moved.json()["x"], moved.json()["color"], moved.json()["width"], moved.json()["version"]) == (
        300, "pink", 400, 2,
    )  # fmt: skip
    assert moved.json()["text"] == "Shoot at dawn"
    assert list(Note.objects.values_list("text", "x", "y", "color", "width", "version")) == [
        ("Shoot at dawn", 300, -40, "pink", 400, 2)
    ]
    assert [n["id"] for n in api.get(notes_url(project)).json()] == [note["id"]]

    assert api.delete(notes_url(project, note["id"])).status_code == 204
    assert not Note.objects.exists()


def test_a_stale_version_is_a_409_and_the_note_keeps_the_newer_text(api, project):
    note = api.post(notes_url(project), {"text": "first", "x": 0, "y": 0}).json()
    api.patch(notes_url(project, note["id"]), {"version": 1, "text": "second"})
    before = snapshot()

    stale = api.patch(notes_url(project, note["id"]), {"version": 1, "text": "third"})

    assert stale.status_code == 409
    error = error_of(stale)
    assert error["code"] == "version_conflict" and error["details"]["note"]["text"] == "second"
    assert Note.objects.get().text == "second"
    assert changes_since(before) == {}  # its version too


def test_bad_notes_are_refused_naming_the_field(api, project):
    note = api.post(notes_url(project), {"text": "kept", "x": 0, "y": 0}).json()
    before = snapshot()
    too_long = api.post(notes_url(project), {"text": "x" * 5001, "x": 0, "y": 0})
    orange = api.post(notes_url(project), {"text": "hi", "x": 0, "y": 0, "color": "orange"})
    recoloured = api.patch(notes_url(project, note["id"]), {"version": 1, "color": "orange"})

    assert too_long.status_code == 422 and orange.status_code == 422
    assert "text" in str(error_of(too_long)["details"]) and "color" in str(error_of(orange)["details"])
    assert recoloured.status_code == 422 and error_of(recoloured)["details"]["fields"][0]["field"] == "color"
    assert list(Note.objects.values_list("text", flat=True)) == ["kept"]
    assert changes_since(before) == {}


def test_viewers_read_notes_but_cannot_write_and_outsiders_see_nothing(api, project, bob, add_member):
    note = api.post(notes_url(project), {"text": "Mine", "x": 0, "y": 0}).json()
    outsider = Api(bob)
    before = snapshot()
    assert outsider.get(notes_url(project)).status_code == 404
    for refused in (
        outsider.post(notes_url(project), {"text": "Theirs", "x": 0, "y": 0}),
        outsider.patch(notes_url(project, note["id"]), {"version": 1, "text": "Theirs"}),
        outsider.delete(notes_url(project, note["id"])),
    ):
        assert refused.status_code == 404 and error_of(refused)["code"] == "not_found"
    assert changes_since(before) == {}

    add_member(bob, Membership.Role.VIEWER)
    before = snapshot()
    viewer = Api(bob)

    assert [n["text"] for n in viewer.get(notes_url(project)).json()] == ["Mine"]
    assert viewer.get(f"/projects/{project.id}/graph").json()["notes"][0]["text"] == "Mine"
    for refused in (
        viewer.post(notes_url(project), {"text": "Theirs", "x": 0, "y": 0}),
        viewer.patch(notes_url(project, note["id"]), {"version": 1, "text": "Theirs"}),
        viewer.delete(notes_url(project, note["id"])),
    ):
        assert refused.status_code == 403 and error_of(refused)["code"] == "forbidden"
    assert list(Note.objects.values_list("text", "version")) == [("Mine", 1)]
    assert changes_since(before) == {}


@pytest.mark.django_db(transaction=True)
def test_notes_are_in_the_snapshot_and_their_changes_reach_other_canvases(project, alice, bob, add_member, redis):
    add_member(bob, Membership.Role.VIEWER)
    editor = Api(alice)
    first = editor.post(notes_url(project), {"text": "Already here", "x": 0, "y": 0}).json()
    headers, viewer = headers_for(bob), Api(bob)

    async def scenario():
        socket = project_socket(project.id, headers)
        assert (await socket.connect())[0]
        opening = await socket.receive_json_from()
        refused = await sync_to_async(viewer.post)(notes_url(project), {"text": "Bob's", "x": 0, "y": 0})
        assert refused.status_code == 403  # and, the next event shows, sent nothing
        made = await sync_to_async(editor.post)(notes_url(project), {"text": "New", "x": 5, "y": 5})
        created = await next_event(socket)
        await sync_to_async(editor.patch)(notes_url(project, made.json()["id"]), {"version": 1, "text": "Newer"})
        updated = await next_event(socket)
        await sync_to_async(editor.delete)(notes_url(project, first["id"]))
        deleted = await next_event(socket)
        await socket.disconnect()
        return opening, created, updated, deleted

    opening, created, updated, deleted = async_to_sync(scenario)()
    assert [note["text"] for note in opening["notes"]] == ["Already here"]
    assert (created["type"], created["note"]["text"], created["by"]) == ("note.created", "New", "alice")
    assert (updated["type"], updated["note"]["text"], updated["note"]["version"]) == ("note.updated", "Newer", 2)
    assert (deleted["type"], deleted["note_id"], deleted["by"]) == ("note.deleted", first["id"], "alice")
