"""A video canceled after the provider started it is paid for: its card says so and offers to keep
it, and keeping it puts the video on the card without submitting again."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from generation import endings, quotas
from generation.models import Job
from generation.planning import plan_run
from nodes.services import add_node, connect
from projects.models import Membership
from providers.local_video import submit_count
from tests.browser.conftest import log_in, open_canvas
from tests.factories import PASSWORD, ProjectFactory, UserFactory
from tests.workers import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PRICE_OF_4_SECONDS = Decimal("1.60")  # the simulated provider is priced like Veo 3.1 at 720p


def in_thread(function, *arguments) -> None:
    """Call `function` from another thread: this one runs Playwright's event loop, where the events
    the engine sends (async_to_sync) cannot be sent."""

    def call():
        try:
            function(*arguments)
        finally:
            connection.close()

    thread = threading.Thread(target=call)
    thread.start()
    thread.join()


def test_a_video_canceled_after_its_submit_is_kept_from_its_card(
    page, new_context, app_server, workers, settings, shot
):
    settings.PROVIDERS = {**settings.PROVIDERS, "video": "simulated"}
    owner = UserFactory(username="keeper")
    project = ProjectFactory(owner=owner, name="Keep")
    prompt = add_node(project, type="prompt", title="Line", x=40, y=60, params={"text": "A lighthouse at dusk"})
    video = add_node(project, type="video", title="Shot", x=420, y=60, params={"duration_seconds": 4})
    connect(project, source=prompt, source_port="text", target=video, target_port="prompt")
    workers.start(1, REELGRAPH_VIDEO_PROVIDER="simulated", REELGRAPH_SIMULATED_LATENCY="8")
    run = plan_run(project, [video.id], user=owner).run
    job = Job.objects.get(run=run, node=video)
    # Canceled once the provider has started it, between two polls (no worker holds it).
    wait_for(lambda: Job.objects.filter(pk=job.pk, lease_until=None).exclude(provider_operation="").exists())
    in_thread(endings.cancel_job, job, "Canceled by keeper.")

    log_in(page, app_server, owner.username, PASSWORD)
    open_canvas(page, app_server, project.id)
    watcher = UserFactory(username="watcher")
    Membership.objects.create(project=project, user=watcher, role=Membership.Role.VIEWER)
    viewer_page = new_context().new_page()
    log_in(viewer_page, app_server, watcher.username, PASSWORD)
    open_canvas(viewer_page, app_server, project.id)
    card = page.locator(f'[data-node-id="{video.id}"]')
    offer = card.locator("[data-keep]")
    offer.wait_for()
    assert offer.locator("span").inner_text() == (
        "Canceled after Simulated provider started it: already paid for (about $1.60). Keep the video?"
    )
    assert card.locator("[data-status]").inner_text() == "canceled"
    assert card.locator("[data-video]").count() == 0
    shot(page, "keep-offer")
    # A viewer reads why, and cannot keep it.
    viewer_card = viewer_page.locator(f'[data-node-id="{video.id}"]')
    viewer_offer = viewer_card.locator("[data-keep]")
    assert viewer_offer.inner_text() == "Canceled after Simulated provider started it: already paid for (about $1.60)."
    assert viewer_offer.locator("button").count() == 0
    # The runs panel offers it too, on the canceled job.
    page.click("[data-runs-toggle]")
    page.locator(f'[data-run="{run.id}"] [data-run-toggle]').click()
    assert page.locator(f'[data-run-job="{job.id}"] [data-job-keep]').inner_text() == "Keep it"
    shot(page, "keep-in-runs-panel")
    page.click("[data-runs-close]")

    offer.locator("[data-action=keep]").click()

    card.locator("[data-video]").wait_for(timeout=120_000)
    page.wait_for_selector(f'[data-node-id="{video.id}"] [data-status]:text-is("succeeded")', timeout=30_000)
    assert card.locator("[data-keep]").count() == 0
    assert page.evaluate("(id) => window.reelgraph.store.nodes.get(id).selected_take.number", str(video.id)) == 1
    shot(page, "kept")
    viewer_card.locator("[data-video]").wait_for(timeout=30_000)  # live, for every member
    assert viewer_card.locator("[data-keep]").count() == 0
    video.refresh_from_db()
    kept = Job.objects.get(state__kept_from=str(job.id))
    assert video.selected_take.job_id == kept.id and video.takes.count() == 1
    assert submit_count("simulated") == 1  # collected, never submitted again
    assert quotas.spent_today(Job.objects.filter(created_by=owner)) == PRICE_OF_4_SECONDS
