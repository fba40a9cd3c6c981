"""The canvas keeps the browser console clean: an invalid graph and a run in progress are states the
background plan shows on the cards, not errors."""

import pytest

from tests.browser.conftest import log_in, open_canvas
from tests.factories import PASSWORD, ProjectFactory, UserFactory
from tests.graphs import add, text_to_video

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def console_errors(page) -> list[str]:
    errors = []

    def note(message):
        where = message.location.get("url", "")
        if message.type == "error":
            errors.append(f"{message.text} ({where})")

    page.on("console", note)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def test_an_invalid_graph_shows_its_problems_on_the_cards_without_console_errors(page, app_server, shot):
    user = UserFactory(username="tidy")
    project = ProjectFactory(owner=user, name="Invalid")
    video = add(project, "video", "Shot")  # no prompt: the graph cannot run
    errors = console_errors(page)
    log_in(page, app_server, user.username, PASSWORD)
    open_canvas(page, app_server, project.id)

    problems = page.locator(f'[data-node-id="{video.id}"] [data-problems]')
    problems.wait_for()
    assert "Connect text to Prompt." in problems.inner_text()
    shot(page, "invalid")
    assert errors == []


def test_a_run_in_progress_logs_no_console_errors(page, app_server, workers, shot):
    workers.start(1)
    user = UserFactory(username="runner")
    project = ProjectFactory(owner=user, name="Running")
    _prompt, video = text_to_video(project)
    errors = console_errors(page)
    log_in(page, app_server, user.username, PASSWORD)
    open_canvas(page, app_server, project.id)

    card = page.locator(f'[data-node-id="{video.id}"]')
    card.locator("[data-action=run]").click()
    page.click("dialog[open] [data-confirm-run]")
    card.locator("[data-progress]:not([hidden])").wait_for(timeout=30_000)
    # While it runs, the user changes the prompt: the background plan meets the running node.
    page.locator("[data-inline=text]").fill("A lighthouse at dawn")
    page.locator("[data-inline-state=saved]").wait_for()
    card.locator("[data-video]").wait_for(timeout=120_000)
    shot(page, "ran")
    assert errors == []
