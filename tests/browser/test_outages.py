"""The canvas through an outage of the channel layer (Redis, as daphne sees it), in a real browser."""

from urllib.parse import urlsplit

import pytest
import requests
from django.conf import settings

from generation.models import Job, Run
from nodes.models import Node
from projects.models import Membership
from projects.tokens import create_token
from tests.browser.conftest import log_in, open_canvas
from tests.browser.harness import daphne
from tests.factories import PASSWORD, ProjectFactory, UserFactory
from tests.faults import Proxy
from tests.graphs import add, wait_for_run
from tests.workers import worker_environment

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

TEXT = "[...window.reelgraph.store.nodes.values()].some((n) => n.params.text === text)"


def test_the_canvas_converges_from_a_snapshot_when_the_channel_layer_returns(new_context, workers, shot):
    owner, editor = UserFactory(username="olivia"), UserFactory(username="eddie")
    project = ProjectFactory(owner=owner, name="Storm reel")
    Membership.objects.create(project=project, user=editor, role=Membership.Role.EDITOR)
    line = add(project, "prompt", "Opening line", text="A lighthouse at dawn")
    _, secret = create_token(editor, "outage")
    auth = {"Authorization": f"Bearer {secret}"}
    redis_url = urlsplit(settings.REDIS_URL)
    proxy = Proxy((redis_url.hostname, redis_url.port)).start()
    through_proxy = f"redis://127.0.0.1:{proxy.port}/0"
    environment = worker_environment(REDIS_URL=through_proxy)
    try:
        workers.start(1, REDIS_URL=through_proxy)
        with daphne(settings.BASE_DIR, environment, settings.VAR_DIR / "daphne-outage.log") as base:
            page = new_context().new_page()
            log_in(page, base, owner.username, PASSWORD)
            open_canvas(page, base, project.id)
            page.wait_for_selector("[data-live-status][data-state=live]")

            proxy.stop()  # the channel layer goes away: the live connection drops and cannot come back yet
            page.wait_for_selector("[data-live-status][data-state=offline]", timeout=30_000)
            assert "your changes still save" in page.get_attribute("[data-live-status]", "title")
            shot(page, "1-reconnecting")

            # Editing does not depend on the channel layer: the change is saved, only its event is lost.
            url = f"{base}/api/v1/projects/{project.id}/nodes/{line.id}"
            edit = {"version": line.version, "params": {"text": "A lighthouse in a storm"}}
            edited = requests.patch(url, json=edit, headers=auth, timeout=30)
            assert edited.status_code == 200, edited.text
            assert Node.objects.get(pk=line.pk).params["text"] == "A lighthouse in a storm"
            assert not page.evaluate(f"(text) => {TEXT}", "A lighthouse in a storm")  # nothing could reach it

            # A run started now is accepted: its jobs wait in the database until the queues are back.
            started = requests.post(
                f"{base}/api/v1/projects/{project.id}/runs", json={"targets": [str(line.id)]}, headers=auth, timeout=30
            )
            assert started.status_code == 200, started.text
            run = Run.objects.get(pk=started.json()["run"]["id"])
            assert run.jobs.get().status == Job.Status.QUEUED

            proxy.start()
            # The page reconnects by itself, and the snapshot it gets carries the edit it missed.
            page.wait_for_selector("[data-live-status][data-state=live]", timeout=30_000)
            page.wait_for_function(f"(text) => {TEXT}", arg="A lighthouse in a storm", timeout=10_000)
            page.locator(f'[data-node-id="{line.id}"] .node-head').click()
            page.wait_for_selector('#inspector [name="text"]')
            assert page.input_value('#inspector [name="text"]') == "A lighthouse in a storm"
            shot(page, "2-converged")

            # The reconciler queued the run's job once Redis was back; the canvas watches it finish.
            assert wait_for_run(run, timeout=60).status == Run.Status.SUCCEEDED, workers.logs()
            page.wait_for_selector(f'[data-node-id="{line.id}"] .badge.status-succeeded', timeout=10_000)
            assert "storm" in page.locator(f'[data-node-id="{line.id}"] [data-output-text]').inner_text()

            # And live events flow again: the next edit arrives without a reload.
            edit = {"version": edited.json()["version"], "params": {"text": "A lighthouse at dusk"}}
            again = requests.patch(url, json=edit, headers=auth, timeout=30)
            assert again.status_code == 200, again.text
            page.wait_for_function(f"(text) => {TEXT}", arg="A lighthouse at dusk", timeout=10_000)
            page.wait_for_function(
                "(text) => document.querySelector('#inspector [name=text]')?.value === text", arg="A lighthouse at dusk"
            )
    finally:
        proxy.stop()
