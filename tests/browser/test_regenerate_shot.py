"""Regenerating one shot in the storyboard's inspector, in Chromium with the offline planner: the row
says what it costs, shows the new words when they arrive (the other rows as they were, on screen, on
the card and in the database), keeps the focus on its button, and Ctrl+Z takes it back."""

import pytest

from nodes.models import Node
from tests.browser.conftest import log_in, open_canvas
from tests.factories import PASSWORD, ProjectFactory, UserFactory
from tests.graphs import add, wire
from tests.workers import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

BRIEF = "A trail runner crosses a misty ridge at dawn"
SHOTS = [
    {"id": "ridge", "description": "Mist over the ridge at dawn.", "seconds": 8, "camera": "wide"},
    {"id": "lace", "description": "She laces her shoes on a rock.", "seconds": 6},
    {"id": "run", "description": "She sets off running.", "seconds": 6, "continues": True},
]


def descriptions(page) -> list[str]:
    rows = page.locator("#inspector [data-shot] textarea")
    return [rows.nth(index).input_value() for index in range(rows.count())]


def test_regenerate_rewrites_one_row_and_leaves_the_others(page, app_server, shot):
    user = UserFactory(username="writer")
    project = ProjectFactory(owner=user, name="Ridge")
    brief = add(project, "prompt", "Brief", text=BRIEF)
    board = add(project, "storyboard", "Ridge storyboard", shots=SHOTS)
    brief.x, brief.y, board.x, board.y = 40, 60, 40, 330
    brief.save()
    board.save()
    wire(brief, "text", board, "brief")
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, app_server, user.username, PASSWORD)
    open_canvas(page, app_server, project.id)
    card = page.locator(f'[data-node-id="{board.id}"]')
    card.locator(".node-head").click()
    page.wait_for_selector("#inspector [data-shots-editor]")
    cost = page.locator("#inspector [data-regenerate-cost]").inner_text()
    assert "offline planner (free)" in cost and "the other shots stay as they are" in cost
    before = descriptions(page)
    assert before == [s["description"] for s in SHOTS]

    page.get_by_role("button", name="Regenerate shot 2").click()
    row = page.locator("#inspector [data-shot]").nth(1)
    row.locator("[data-shot-status]", has_text="Rewritten by the offline planner.").wait_for(timeout=15_000)

    after = descriptions(page)
    assert after[0] == before[0] and after[2] == before[2]
    assert after[1] != before[1] and BRIEF in after[1]
    saved = Node.objects.get(pk=board.pk).params["shots"]
    assert [s["description"] for s in saved] == after and [s["id"] for s in saved] == ["ridge", "lace", "run"]
    assert saved[0] == SHOTS[0] and saved[2] == SHOTS[2]
    assert row.locator('[data-part="camera"]').input_value() == saved[1]["camera"] != ""
    card.locator("[data-shot-row]").nth(1).filter(has_text=after[1][:40]).wait_for(timeout=10_000)
    assert card.locator("[data-shot-row]").nth(0).inner_text().endswith(before[0])
    # The focus stays where the user was; the row is no longer busy.
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Regenerate shot 2"
    assert row.get_attribute("aria-busy") is None
    shot(page, "regenerated")

    page.locator("[data-viewport]").click(position={"x": 5, "y": 5})  # the canvas, not a field
    page.keyboard.press("Control+z")
    wait_for(
        lambda: Node.objects.get(pk=board.pk).params["shots"] == SHOTS, timeout=15, message="the regeneration undone"
    )
    card.locator("[data-shot-row]").nth(1).filter(has_text=before[1]).wait_for(timeout=10_000)
    shot(page, "undone")
    assert errors == []
