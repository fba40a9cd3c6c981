"""Editing on the canvas: refused connections, field errors, undo and redo."""

import pytest

from nodes.models import Edge, Node
from tests.browser.conftest import connect, log_in, on_screen, open_canvas
from tests.factories import PASSWORD, ProjectFactory, UserFactory
from tests.graphs import add

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def canvas(page, app_server):
    user = UserFactory(username="maker")
    project = ProjectFactory(owner=user, name="Editing")
    nodes = {
        "prompt": add(project, "prompt", "Line", text="A lighthouse"),
        "video": add(project, "video", "Shot"),
    }
    for index, node in enumerate(nodes.values()):
        node.x, node.y = 40 + index * 380, 60
        node.save()
    log_in(page, app_server, user.username, PASSWORD)
    open_canvas(page, app_server, project.id)
    cards = {name: page.locator(f'[data-node-id="{node.id}"]') for name, node in nodes.items()}
    return page, nodes, cards


def saved_elsewhere(page, node: Node, changes: dict) -> int:
    """The node saved by this user from another tab (the page's own session): the status of the PATCH."""
    return page.evaluate(
        """async ([path, body]) => (await fetch(`/api/v1${path}`, { method: "PATCH", body: JSON.stringify(body),
            headers: { "Content-Type": "application/json",
                       "X-CSRFToken": document.cookie.match(/csrftoken=([^;]+)/)[1] } })).status""",
        [f"/projects/{node.project_id}/nodes/{node.id}", {"version": node.version, **changes}],
    )


def test_an_incompatible_connection_is_refused_with_a_hint_at_the_port(canvas, shot):
    page, _nodes, cards = canvas

    connect(page, cards["video"], "video", cards["prompt"], "image")

    hint = page.locator("[data-hint]")
    hint.wait_for(state="visible")
    assert hint.inner_text() == "Reference image takes image, but Video is video: they cannot connect."
    assert "refused" in cards["prompt"].locator('[data-port="image"]').get_attribute("class")
    shot(page, "refused-connection")
    assert not Edge.objects.exists()


def test_an_invalid_setting_shows_its_error_next_to_the_field(canvas, shot):
    page, nodes, cards = canvas
    cards["prompt"].locator(".node-head").click()
    page.wait_for_selector('#inspector [name="text"]')

    page.fill('#inspector [name="text"]', "x" * 4001)  # no Save button pressed: it saves as one types

    error = page.locator("#inspector #param-text-error")
    error.wait_for()
    assert error.inner_text() == "String should have at most 4000 characters"
    assert page.locator('#inspector [data-field="text"]').get_attribute("class") == "field has-error"
    assert page.inner_text("#inspector [data-save-state]") == "Not saved: fix the fields marked below."
    assert page.input_value('#inspector [name="text"]') == "x" * 4001  # what was typed stays
    shot(page, "field-error")
    assert Node.objects.get(pk=nodes["prompt"].pk).params == {"text": "A lighthouse"}


def test_undo_and_redo_restore_positions_edges_and_settings(canvas, shot):
    page, nodes, cards = canvas
    prompt, video = nodes["prompt"], nodes["video"]

    head = on_screen(cards["video"].locator(".node-head"))
    page.mouse.move(head["x"] + 30, head["y"] + 12)
    page.mouse.down()
    page.mouse.move(head["x"] + 130, head["y"] + 212, steps=6)
    page.mouse.up()
    page.wait_for_function("window.reelgraph.history.done.length === 1")
    connect(page, cards["prompt"], "text", cards["video"], "prompt")
    page.wait_for_function("window.reelgraph.history.done.length === 2")
    cards["video"].locator(".node-head").click()
    page.wait_for_selector('#inspector [name="duration_seconds"]')
    page.select_option('#inspector [name="duration_seconds"]', "4")
    page.wait_for_function("window.reelgraph.history.done.length === 3")
    moved = Node.objects.get(pk=video.pk)
    assert (moved.x, moved.params["duration_seconds"], Edge.objects.count()) == (video.x + 100 * moved_zoom(page), 4, 1)
    shot(page, "after-edits")

    page.locator("[data-viewport]").click(position={"x": 600, "y": 600})  # focus the canvas, not a field
    for _ in range(3):
        page.keyboard.press("Control+z")
        page.wait_for_function("!window.reelgraph.history.busy")
    page.wait_for_function("window.reelgraph.history.done.length === 0")
    restored = Node.objects.get(pk=video.pk)
    assert (restored.x, restored.y) == (video.x, video.y)
    assert restored.params.get("duration_seconds", 8) == 8
    assert not Edge.objects.exists()
    shot(page, "after-undo")

    for _ in range(3):
        page.keyboard.press("Control+Shift+z")
        page.wait_for_function("!window.reelgraph.history.busy")
    page.wait_for_function("window.reelgraph.history.undone.length === 0")
    again = Node.objects.get(pk=video.pk)
    assert (again.x, again.params["duration_seconds"]) == (moved.x, 4)
    edge = Edge.objects.get()
    assert (edge.source_id, edge.source_port, edge.target_id, edge.target_port) == (
        prompt.id,
        "text",
        video.id,
        "prompt",
    )
    shot(page, "after-redo")


def moved_zoom(page) -> float:
    """A drag of 100 screen pixels moves a node 100 / zoom canvas units."""
    return 1 / page.evaluate("window.reelgraph.view.zoom")


def test_typed_text_is_saved_as_one_types_and_kept_when_another_node_is_selected(canvas, shot):
    page, nodes, cards = canvas
    cards["prompt"].locator(".node-head").click()
    field = page.locator('#inspector [name="text"]')
    field.wait_for()

    field.fill("A lighthouse in a storm")
    state = page.locator("#inspector [data-save-state]")
    page.wait_for_selector("#inspector [data-save-state=saved]")
    assert state.inner_text() == "Saved"
    assert Node.objects.get(pk=nodes["prompt"].pk).params["text"] == "A lighthouse in a storm"

    # Typed, then straight to another node (before the pause that saves): the text is saved anyway.
    field.press_sequentially(", at dawn", delay=0)
    cards["video"].locator(".node-head").click()
    page.wait_for_selector('#inspector [name="duration_seconds"]')
    cards["prompt"].locator(".node-head").click()
    page.wait_for_function(
        "document.querySelector('#inspector [name=text]')?.value === 'A lighthouse in a storm, at dawn'"
    )
    shot(page, "text-kept")
    assert Node.objects.get(pk=nodes["prompt"].pk).params["text"] == "A lighthouse in a storm, at dawn"


def test_a_setting_someone_else_saved_first_is_a_conflict_the_user_resolves(canvas, shot):
    page, nodes, cards = canvas
    cards["prompt"].locator(".node-head").click()
    field = page.locator('#inspector [name="text"]')
    field.wait_for()
    prompt = Node.objects.get(pk=nodes["prompt"].pk)
    # The same node saved from elsewhere first (another tab of this user): the form's version is old.
    assert saved_elsewhere(page, prompt, {"params": {"text": "Theirs"}}) == 200

    field.fill("Mine")
    page.wait_for_selector("#inspector [data-save-state=conflict]")
    assert page.input_value('#inspector [name="text"]') == "Mine"  # nothing typed is thrown away
    shot(page, "conflict")
    page.click("#inspector [data-conflict=mine]")
    page.wait_for_selector("#inspector [data-save-state=saved]")
    assert Node.objects.get(pk=prompt.pk).params["text"] == "Mine"


def test_the_prompt_is_edited_on_its_card_and_saved_as_one_types(canvas, shot):
    page, nodes, cards = canvas
    inline = cards["prompt"].locator("[data-inline=text]")
    assert inline.input_value() == "A lighthouse"

    inline.fill("A lighthouse, seen from the sea")
    cards["prompt"].locator("[data-inline-state=saved]").wait_for()
    assert Node.objects.get(pk=nodes["prompt"].pk).params["text"] == "A lighthouse, seen from the sea"
    assert inline.input_value() == "A lighthouse, seen from the sea"  # drawn again, the card kept it
    shot(page, "inline-prompt")

    # Renamed from elsewhere (another tab): the card is drawn again and still says its text is saved.
    prompt = Node.objects.get(pk=nodes["prompt"].pk)
    assert saved_elsewhere(page, prompt, {"title": "Renamed line"}) == 200
    cards["prompt"].locator(".node-title", has_text="Renamed line").wait_for()
    assert cards["prompt"].locator("[data-inline-state]").inner_text() == "Saved"
    assert cards["prompt"].locator("[data-inline-state]").get_attribute("data-inline-state") == "saved"

    cards["prompt"].locator(".node-head").click()
    assert page.locator('#inspector [name="text"]').input_value() == "A lighthouse, seen from the sea"
    page.locator("[data-viewport]").click(position={"x": 600, "y": 600})
    page.keyboard.press("Control+z")
    page.wait_for_function("document.querySelector('[data-inline=text]').value === 'A lighthouse'")
    assert Node.objects.get(pk=nodes["prompt"].pk).params["text"] == "A lighthouse"
