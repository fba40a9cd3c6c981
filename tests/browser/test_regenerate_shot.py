"""Regenerating one shot in the storyboard's inspector, in Chromium: with the offline planner, the row
shows the new words (the other rows as they were, on screen, on the card and in the database), keeps
the focus on its button, and Ctrl+Z takes it back; with OpenAI (a loopback fake holding its answer),
the row says what it costs and that it is working until the answer arrives."""

import json
import threading

import pytest
from django.conf import settings

from nodes.models import Node
from tests.browser.conftest import storyboard_on_canvas
from tests.browser.harness import daphne
from tests.fakes.openai import OpenAIFake
from tests.fakes.server import Accept
from tests.workers import wait_for, worker_environment

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


def storyboard_in_inspector(page, base: str):
    """A storyboard with its shots written, wired to a brief, selected: its shot editor shown."""
    board, card = storyboard_on_canvas(page, base, "writer", "Ridge", BRIEF, shots=SHOTS)
    card.locator(".node-head").click()
    page.wait_for_selector("#inspector [data-shots-editor]")
    return board, card


def test_regenerate_rewrites_one_row_and_leaves_the_others(page, app_server, shot):
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    board, card = storyboard_in_inspector(page, app_server)
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


def test_a_paid_regeneration_says_so_and_shows_the_row_working_until_the_answer(page, transactional_db, redis, shot):
    release = threading.Event()
    words = "She kneels on the cold rock and pulls her laces tight, breath misting, close-up."
    answer = {"description": words, "seconds": 6, "characters": [], "camera": "close-up", "continues": False}
    held = Accept(release=release, text=json.dumps(answer))
    log = settings.VAR_DIR / "daphne" / "regenerate-with-openai.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with OpenAIFake() as fake:
        fake.answers.append(held)
        environment = worker_environment(
            OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=f"{fake.url}/v1", REELGRAPH_TEXT_PROVIDER="openai"
        )
        with daphne(settings.BASE_DIR, environment, log) as base:
            try:
                board, _ = storyboard_in_inspector(page, base)
                cost = page.locator("#inspector [data-regenerate-cost]").inner_text()
                assert "with OpenAI: one paid text request" in cost

                page.get_by_role("button", name="Regenerate shot 2").click()
                assert held.received.wait(30)
                row = page.locator("#inspector [data-shot]").nth(1)
                assert row.get_attribute("aria-busy") == "true"
                assert row.locator("[data-shot-status]").inner_text() == "Regenerating with OpenAI…"
                assert row.locator('[data-shot-action="regenerate"]').inner_text() == "Regenerating…"
                assert page.locator("#inspector [data-shot] textarea").nth(0).get_attribute("readonly") is not None
                shot(page, "working")
            finally:
                release.set()
            row.locator("[data-shot-status]", has_text="Rewritten by OpenAI.").wait_for(timeout=15_000)

            assert descriptions(page) == [SHOTS[0]["description"], words, SHOTS[2]["description"]]
            assert row.get_attribute("aria-busy") is None
            assert Node.objects.get(pk=board.pk).params["shots"][1]["description"] == words
            assert len(fake.billed("text")) == 1
            shot(page, "answered")
