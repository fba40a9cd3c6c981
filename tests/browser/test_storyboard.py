"""A storyboard on the canvas, in Chromium, with a real worker and the offline planner: plan the shots,
edit one in the inspector, expand them into nodes (drawn in shot order inside their frame), undo."""

import pytest

from nodes.models import Node, Note
from tests.browser.conftest import log_in, open_canvas, set_param
from tests.factories import PASSWORD, ProjectFactory, UserFactory
from tests.graphs import add, wire
from tests.workers import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

BRIEF = "A 24-second ad for a trail-running shoe: a runner crosses a misty ridge at dawn"


def test_plan_edit_expand_and_undo_a_storyboard(page, app_server, workers, shot):
    workers.start(1)
    user = UserFactory(username="director")
    project = ProjectFactory(owner=user, name="Shoe ad")
    brief = add(project, "prompt", "Brief", text=BRIEF)
    board = add(project, "storyboard", "Shoe ad storyboard", seconds=24)
    brief.x, brief.y, board.x, board.y = 40, 60, 40, 330
    brief.save()
    board.save()
    wire(brief, "text", board, "brief")
    log_in(page, app_server, user.username, PASSWORD)
    open_canvas(page, app_server, project.id)
    card = page.locator(f'[data-node-id="{board.id}"]')

    card.locator("[data-action=run]").click()
    page.click("dialog[open] [data-confirm-run]")
    rows = card.locator("[data-shot-row]")
    rows.first.wait_for(timeout=60_000)
    assert rows.count() == 4  # 24 s at about one shot per 6 s
    assert [rows.nth(i).locator(".shot-len").inner_text() for i in range(4)] == [
        "1 · 6 s",
        "2 · 6 s · continues",
        "3 · 6 s",
        "4 · 6 s · continues",
    ]
    assert BRIEF in rows.first.inner_text()
    shot(page, "1-planned")

    # Edit the first shot in the inspector: it saves as one types, and the card shows the edit.
    card.locator(".node-head").click()
    page.wait_for_selector("#inspector [data-shots-editor]")
    set_param(page, "shots-0-description", "Dawn mist rolls over the ridge; a lone runner appears.")
    wait_for(lambda: Node.objects.get(pk=board.pk).params.get("shots"), timeout=10, message="the edited shots saved")
    assert Node.objects.get(pk=board.pk).params["shots"][0]["description"].startswith("Dawn mist rolls")
    card.locator("[data-shot-row]").first.filter(has_text="Dawn mist rolls").wait_for(timeout=10_000)
    shot(page, "2-edited")

    before = {str(node_id) for node_id in Node.objects.filter(project=project).values_list("id", flat=True)}
    card.locator("[data-action=expand]").click()
    page.wait_for_selector(".toast:has-text('Expanded: 13 nodes made')", timeout=15_000)
    made = Node.objects.filter(project=project, origin__storyboard=str(board.id))
    assert made.count() == 13  # 4 prompts, 4 videos, 2 keyframes (the cuts), a stitch, music and its prompt
    for node in made:
        page.locator(f'[data-node-id="{node.id}"]').wait_for(timeout=10_000)
    # Drawn left to right in shot order: each shot's prompt right of the one before.
    prompts = sorted(made.filter(origin__role="prompt"), key=lambda n: n.x)
    boxes = [page.locator(f'[data-node-id="{p.id}"]').bounding_box() for p in prompts]
    assert [box["x"] for box in boxes] == sorted(box["x"] for box in boxes)
    assert prompts[0].params["text"].startswith("Dawn mist rolls over the ridge")
    frame = Note.objects.get(project=project)
    page.locator(f'[data-note="{frame.id}"]').wait_for(timeout=10_000)
    shot(page, "3-expanded")

    page.locator("[data-viewport]").click(position={"x": 5, "y": 5})  # the canvas, not a field
    page.keyboard.press("Control+z")
    wait_for(
        lambda: (
            {str(i) for i in Node.objects.filter(project=project).values_list("id", flat=True)} == before
            and not Note.objects.filter(project=project).exists()
        ),
        timeout=20,
        message="the expansion undone, its frame too",
    )
    wait_for(lambda: page.locator("[data-node-id]").count() == 2, timeout=10, message="two cards left on screen")
    shot(page, "4-undone")
