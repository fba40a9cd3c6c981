"""A video held back for want of a generation slot, as its card shows it: waiting, and why, until an
ending hands it the slot (live, through the server's channel layer)."""

import threading

import pytest
from django.db import connections

from generation import endings
from generation.planning import plan_run
from nodes import services
from nodes.models import Node
from tests.browser.conftest import log_in, open_canvas
from tests.factories import PASSWORD, ProjectFactory, UserFactory
from tests.graphs import run_here, wire
from tests.workers import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

WAITING = "Waiting for a free generation slot (1 of 1 in use)"


def elsewhere(action) -> None:
    """Run `action` in another thread: this one runs Playwright's event loop, where the events an
    ending sends (async_to_sync) cannot be."""

    def run():
        try:
            action()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()


def test_a_video_waiting_for_a_generation_slot_says_so_on_its_card_until_it_gets_one(page, app_server, settings, shot):
    settings.MAX_CONCURRENT_GENERATIONS = 1
    owner = UserFactory(username="maker")
    project = ProjectFactory(owner=owner, name="Slots")
    prompt = services.add_node(project, type="prompt", title="Line", params={"text": "A lighthouse in a storm"})
    for number, title in enumerate(("First shot", "Second shot")):
        video = services.add_node(
            project, type="video", title=title, x=360, y=number * 340, params={"duration_seconds": 4}
        )
        wire(prompt, "text", video, "prompt")
    run_here(plan_run(project, [prompt.id], user=owner).run, prompt)  # done: both videos are ready at once
    first, second = plan_run(project, [], user=owner).run.jobs.order_by("created_at", "id")
    log_in(page, app_server, owner.username, PASSWORD)
    open_canvas(page, app_server, project.id)
    label = page.locator(f'[data-node-id="{second.node_id}"] [data-progress-label]')
    other = page.locator(f'[data-node-id="{first.node_id}"] [data-progress-label]')

    label.wait_for()
    assert WAITING in label.inner_text()
    # All of it on screen: the bar grows to hold the label rather than cutting it off.
    shown, bar = label.bounding_box(), label.locator("xpath=..").bounding_box()
    assert shown["y"] + shown["height"] <= bar["y"] + bar["height"]
    assert "Waiting" not in other.inner_text()
    shot(page, "waiting-for-a-slot")

    elsewhere(lambda: endings.cancel(first, "Canceled by the test."))

    wait_for(lambda: "Waiting" not in label.inner_text(), timeout=20, interval=0.1, message="the slot to be shown")
    status = page.locator(f'[data-node-id="{second.node_id}"] [data-status]')
    assert status.inner_text() == "queued"
    assert Node.objects.get(pk=first.node_id).status == Node.Status.CANCELED
