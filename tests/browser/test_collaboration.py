"""Several people on one canvas, each in their own browser context."""

import time

import pytest

from nodes.models import Node
from projects.models import Membership
from tests.browser.conftest import add_node, log_in, on_screen, open_canvas, set_param
from tests.factories import PASSWORD, ProjectFactory, UserFactory
from tests.graphs import add
from tests.workers import holds

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_members_see_each_others_edits_and_runs_live_and_a_viewer_changes_nothing(
    new_context, app_server, workers, shot
):
    workers.start(1)
    owner, editor, viewer = (UserFactory(username=name) for name in ("olivia", "eddie", "vera"))
    project = ProjectFactory(owner=owner, name="Shared reel")
    Membership.objects.create(project=project, user=editor, role=Membership.Role.EDITOR)
    Membership.objects.create(project=project, user=viewer, role=Membership.Role.VIEWER)
    line = add(project, "prompt", "Opening line", text="A lighthouse at dawn")
    line.x, line.y = 60, 60
    line.save()
    pages = {}
    for user in (owner, editor, viewer):
        page = new_context().new_page()
        log_in(page, app_server, user.username, PASSWORD)
        open_canvas(page, app_server, project.id)
        pages[user.username] = page
    olivia, eddie, vera = pages["olivia"], pages["eddie"], pages["vera"]
    for page in pages.values():
        page.wait_for_function("document.querySelectorAll('[data-presence] .avatar').length === 3")

    # An edit by the editor reaches the owner (and the viewer) within a second.
    box = eddie.locator("[data-viewport]").bounding_box()
    started = time.monotonic()
    add_node(eddie, "video", box["x"] + 500, box["y"] + 80)
    olivia.wait_for_selector(".node.type-video", timeout=5_000)
    vera.wait_for_selector(".node.type-video", timeout=5_000)
    assert time.monotonic() - started < 5
    shot(olivia, "1-owner-sees-editor-node")

    # Settings changed by the owner show up on the editor's card.
    olivia.locator(".node.type-prompt .node-head").click()
    olivia.wait_for_selector('#inspector [name="text"]')
    set_param(olivia, "text", "A lighthouse at dusk, waves crashing")
    eddie.wait_for_function(
        "(text) => [...window.reelgraph.store.nodes.values()].some((n) => n.params.text === text)",
        arg="A lighthouse at dusk, waves crashing",
        timeout=5_000,
    )

    # A run started by the owner is watched by everyone as it happens.
    olivia.locator(".node.type-prompt [data-action=run]").click()
    olivia.click("dialog[open] [data-confirm-run]")
    for page in pages.values():
        page.wait_for_selector(".node.type-prompt .badge.status-succeeded", timeout=60_000)
        assert "waves crashing" in page.locator(".node.type-prompt [data-output-text]").inner_text()
    shot(vera, "2-viewer-watches-the-run")

    # The viewer has no way to change anything, and dragging moves nothing.
    assert vera.locator("[data-palette]").count() == 0
    assert vera.locator("[data-action=run], [data-action-button=run-all]").count() == 0
    card = vera.locator(".node.type-prompt")
    head = on_screen(card.locator(".node-head"))
    vera.mouse.move(head["x"] + 20, head["y"] + 10)
    vera.mouse.down()
    vera.mouse.move(head["x"] + 220, head["y"] + 210, steps=8)
    vera.mouse.up()
    card.locator(".node-head").click()
    vera.wait_for_selector('#inspector [name="text"]')
    assert vera.locator('#inspector [name="text"]').is_disabled()
    assert vera.locator("#inspector button[type=submit]").count() == 0
    drawn = card.bounding_box()
    holds(
        lambda: Node.objects.values_list("x", "y").get(pk=line.pk) == (60, 60) and card.bounding_box() == drawn,
        message="the card left where it was",
    )
    shot(vera, "3-viewer-read-only")
