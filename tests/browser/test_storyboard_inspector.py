"""The inspector of a storyboard that was open while it ran: it shows the planned shots as soon as the
run ends (a newcomer found it still saying "No shots yet", and adding a shot there replaced the planned
ones), adding a shot keeps the planned ones, and undo takes the edit back to the planned shots."""

import pytest

from nodes.models import Node
from tests.browser.conftest import storyboard_on_canvas
from tests.workers import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_the_open_inspector_shows_the_planned_shots_and_adding_one_keeps_them(page, app_server, workers, shot):
    workers.start(1)
    brief = "A 12-second ad for a coffee brand: steam over a mug at dawn"
    board, card = storyboard_on_canvas(page, app_server, "planner", "Coffee ad", brief, seconds=12)
    card.locator(".node-head").click()
    page.locator("#inspector [data-no-shots]").wait_for(timeout=10_000)

    card.locator("[data-action=run]").click()
    page.click("dialog[open] [data-confirm-run]")
    card.locator("[data-shot-row]").first.wait_for(timeout=60_000)
    planned = card.locator("[data-shot-row]").count()
    assert planned >= 2

    # Without selecting it again: the inspector lists the planned shots, word for word.
    rows = page.locator("#inspector [data-shot]")
    wait_for(lambda: rows.count() == planned, timeout=15, message="the inspector to show the planned shots")
    assert page.locator("#inspector [data-no-shots]").count() == 0
    words = [rows.nth(i).locator("textarea").input_value() for i in range(planned)]
    assert all(words) and words[0] in card.locator("[data-shot-row]").first.inner_text()

    page.click("#inspector [data-shot-action=add]")
    rows.nth(planned).locator("textarea").fill("Close-up: a hand lifts the mug; the logo turns to camera.")
    wait_for(lambda: len(Node.objects.get(pk=board.pk).params.get("shots") or []) == planned + 1, timeout=10)
    saved = Node.objects.get(pk=board.pk).params["shots"]
    assert [s["description"] for s in saved[:planned]] == words  # the planned shots kept, the new one last
    assert saved[-1]["description"].startswith("Close-up: a hand lifts the mug")
    shot(page, "1-shot-added")

    page.locator("[data-viewport]").click(position={"x": 5, "y": 5})  # the canvas, not a field
    page.keyboard.press("Control+z")

    wait_for(lambda: Node.objects.get(pk=board.pk).params.get("shots") == [], timeout=15, message="the edit undone")
    wait_for(lambda: card.locator("[data-shot-row]").count() == planned, timeout=10)
    assert "edited" not in card.inner_text()
    shot(page, "2-undone")
