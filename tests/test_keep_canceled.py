"""A Veo video canceled after its submit is paid for: the user may keep it. Keeping never submits
again, counts the cost once (with the canceled job), and ends as a take on the node, or as a failure
with the provider's reason. Against the loopback Gemini server through the real google-genai SDK."""

import asyncio
import contextlib
import threading
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.test import override_settings

from assets import media
from generation import endings, quotas, running
from generation.models import Job, Run
from generation.planning import plan_run
from live import events
from nodes.models import Node, Take
from projects.models import Membership
from tests.api import Api, error_of
from tests.engine_helpers import asset_path
from tests.fakes.gemini import Accept, GeminiFake
from tests.graphs import run_here, text_to_video, wait_for_run
from tests.test_graph_races import at_once
from tests.test_worker_kills import veo_environment
from tests.workers import wait_for

pytestmark = [pytest.mark.django_db(transaction=True)]

PRICE_OF_4_SECONDS = Decimal("1.60")  # Veo 3.1 at 720p, the configured price
VEO = {"video": "veo", "text": "local", "faces": "local"}


@pytest.fixture
def gemini(tmp_path, redis):
    with (
        GeminiFake(tmp_path) as fake,
        override_settings(GEMINI_API_KEY="test-key", GEMINI_BASE_URL=fake.url, PROVIDERS=VEO, VEO_POLL_SECONDS=0.1),
    ):
        yield fake


def spent(user) -> Decimal:
    return quotas.spent_today(Job.objects.filter(created_by=user))


def canceled_after_submit(project, alice, title="Kept"):
    """A video submitted to Veo, then canceled while its operation runs: (video node, canceled job)."""
    prompt, video = text_to_video(project, title)
    run = plan_run(project, [video.id], user=alice).run
    job = run_here(run, prompt, video)
    assert job.provider_operation
    endings.cancel_job(job, "Canceled by alice.")
    job.refresh_from_db()
    return video, job


def rows() -> tuple[int, int, int]:
    return Job.objects.count(), Run.objects.count(), Take.objects.count()


def collect(job_id) -> Job:
    """Poll the keeping job in this process, as a worker would, until it ends."""
    job = Job.objects.get(pk=job_id)
    while job.status == Job.Status.RUNNING:
        running.poll_job(str(job.id))
        job.refresh_from_db()
    return job


@pytest.mark.slow
def test_a_video_canceled_after_its_submit_is_kept_in_real_workers_without_paying_again(
    project, alice, workers, tmp_path
):
    _, video = text_to_video(project, "Kept")
    api = Api(alice)
    with (
        GeminiFake(tmp_path, polls=2) as gemini,
        override_settings(PROVIDERS={**settings.PROVIDERS, "video": "veo"}),
    ):
        workers.start(1, **{**veo_environment(gemini), "REELGRAPH_VEO_POLL_SECONDS": "3"})
        run = plan_run(project, [video.id], user=alice).run
        job = Job.objects.get(run=run, node=video)
        # Canceled between its steps: submitted, its operation stored, no worker holding it.
        wait_for(lambda: Job.objects.filter(pk=job.pk, lease_until=None).exclude(provider_operation="").exists())
        assert api.post(f"/jobs/{job.id}/cancel").json()["status"] == "canceled"
        canceled = api.get(f"/jobs/{job.id}").json()
        assert (canceled["keepable"], canceled["cost_actual"]) == (True, "1.6000")
        offer = api.get(f"/projects/{project.id}/nodes/{video.id}").json()["keep"]
        assert offer == {"job_id": str(job.id), "provider": "Google Veo 3.1", "cost": "1.6000"}

        response = api.post(f"/jobs/{job.id}/keep")

        assert response.status_code == 200, response.content
        kept = response.json()
        assert (kept["status"], kept["kept_from"], Decimal(kept["cost_estimate"])) == ("running", str(job.id), 0)
        assert kept["provider_operation"] == canceled["provider_operation"]
        wait_for_run(Run.objects.get(pk=kept["run"]), timeout=120)

    assert gemini.operations_created == 1 and len(gemini.submitted()) == 1, workers.logs()
    video.refresh_from_db()
    assert video.status == Node.Status.SUCCEEDED and video.takes.count() == 1
    take = video.selected_take
    assert str(take.job_id) == kept["id"]
    assert media.probe(asset_path(take.outputs["video"])).duration == pytest.approx(4, abs=0.1)
    assert asset_path(take.outputs["last_frame"]).stat().st_size > 0
    collected = Job.objects.get(pk=kept["id"])
    assert (collected.status, collected.cost_actual) == (Job.Status.SUCCEEDED, Decimal("0"))
    assert Job.objects.get(pk=job.pk).cost_actual == PRICE_OF_4_SECONDS
    assert spent(alice) == PRICE_OF_4_SECONDS  # one operation, counted once
    assert api.get(f"/jobs/{job.id}").json()["keepable"] is False
    assert api.get(f"/projects/{project.id}/nodes/{video.id}").json()["keep"] is None
    assert Run.objects.get(pk=kept["run"]).status == Run.Status.SUCCEEDED


@pytest.mark.parametrize(
    "outcome",
    [("error", "Video generation failed due to an internal error."), "expired"],
    ids=["failed-at-the-provider", "expired"],
)
def test_an_operation_the_provider_did_not_finish_fails_the_keeping_job_and_is_counted_once(
    project, alice, gemini, outcome
):
    if outcome != "expired":
        gemini.outcomes.append(outcome)
    video, job = canceled_after_submit(project, alice)
    if outcome == "expired":
        gemini.operations.clear()  # Google forgot it: its gets answer 404

    kept = Api(alice).post(f"/jobs/{job.id}/keep").json()
    collected = collect(kept["id"])

    why = (
        f"Veo could not make this video: {outcome[1]}"
        if outcome != "expired"
        else f"Veo refused the request (404): Operation {job.provider_operation}"
    )
    assert collected.status == Job.Status.FAILED
    assert collected.error_message.startswith(f"The video canceled earlier could not be kept: {why}")
    assert collected.error_message.endswith("Its cost was counted once, when canceled.")
    video.refresh_from_db()
    assert (video.status, video.error_message) == (Node.Status.FAILED, collected.error_message)
    assert video.takes.count() == 0
    assert collected.cost_actual in (None, Decimal("0"))
    assert spent(alice) == PRICE_OF_4_SECONDS
    assert len(gemini.submitted()) == 1


def test_keeping_in_this_process_makes_a_selected_take_and_counts_nothing_more(project, alice, gemini):
    video, job = canceled_after_submit(project, alice)

    collected = collect(Api(alice).post(f"/jobs/{job.id}/keep").json()["id"])

    video.refresh_from_db()
    assert collected.status == Job.Status.SUCCEEDED and collected.cost_actual == 0
    assert video.selected_take.job_id == collected.id and video.status == Node.Status.SUCCEEDED
    assert spent(alice) == PRICE_OF_4_SECONDS and gemini.operations_created == 1


class Listener:
    """The project's live events, heard on the real channel layer as an open canvas hears them."""

    def __init__(self, project) -> None:
        self.layer = get_channel_layer()
        self.channel = async_to_sync(self.layer.new_channel)()
        async_to_sync(self.layer.group_add)(events.group_name(project.id), self.channel)

    def events(self, quiet_seconds: float = 2) -> list[dict]:
        """Every event sent so far (until none has come for `quiet_seconds`)."""

        async def drain():
            heard = []
            with contextlib.suppress(TimeoutError):
                while True:
                    heard.append((await asyncio.wait_for(self.layer.receive(self.channel), quiet_seconds))["event"])
            return heard

        return async_to_sync(drain)()


def test_a_video_canceled_while_it_was_being_submitted_can_be_kept(project, alice, gemini):
    prompt, video = text_to_video(project, "Canceled mid-submit")
    run = plan_run(project, [video.id], user=alice).run
    run_here(run, prompt)
    job = Job.objects.get(run=run, node=video)
    hold = Accept(release=threading.Event())
    gemini.submits.append(hold)
    listening = Listener(project)
    step = threading.Thread(target=lambda: (running.run_job(str(job.id)), connection.close()))
    step.start()
    hold.received.wait(30)
    endings.cancel_job(job, "Canceled by alice.")  # while the request is at the provider
    hold.release.set()
    step.join(60)

    job.refresh_from_db()
    assert job.status == Job.Status.CANCELED and job.provider_operation  # Google took it: kept, and counted
    assert Api(alice).get(f"/projects/{project.id}/nodes/{video.id}").json()["keep"]["job_id"] == str(job.id)
    offers = [event["node"]["keep"] for event in listening.events() if event["type"] == "node.status"]
    assert offers[0] is None and offers[-1]["job_id"] == str(job.id)  # open canvases heard of it: no refresh
    collected = collect(Api(alice).post(f"/jobs/{job.id}/keep").json()["id"])

    video.refresh_from_db()
    assert collected.status == Job.Status.SUCCEEDED and video.selected_take.job_id == collected.id
    assert collected.cache_key == job.cache_key != ""
    assert plan_run(project, [video.id], dry_run=True).action_of(video.id) == "cached"  # running it pays nothing
    assert spent(alice) == PRICE_OF_4_SECONDS and gemini.operations_created == 1


def test_two_keeps_at_once_make_one_job(project, alice, gemini):
    _, job = canceled_after_submit(project, alice)
    before = rows()
    api = Api(alice)

    answers = at_once(*[(api.post, f"/jobs/{job.id}/keep")] * 2)

    assert sorted(answer.status_code for answer in answers) == [200, 409]
    refused = next(answer for answer in answers if answer.status_code == 409)
    assert error_of(refused)["code"] == "not_keepable"
    assert "already kept" in error_of(refused)["message"]
    assert rows() == (before[0] + 1, before[1] + 1, before[2])
    assert Job.objects.filter(state__kept_from=str(job.id)).count() == 1


def refusal_of(case, project, alice, bob):
    """(who asks, which job, the status expected, the message expected) for each refusal."""
    if case == "not-canceled":
        prompt, video = text_to_video(project, "Running")
        run = plan_run(project, [video.id], user=alice).run
        job = run_here(run, prompt, video)
        return alice, job, 409, "This job's status is running: only the video of a job canceled after its submit"
    if case == "never-submitted":
        _, video = text_to_video(project, "Never sent")
        run = plan_run(project, [video.id], user=alice).run
        endings.cancel_run(run)
        job = Job.objects.get(run=run, node=video)
        return alice, job, 409, "This job was not submitted to the provider: there is nothing paid to keep."
    _, job = canceled_after_submit(project, alice)
    if case == "already-kept":
        collect(Api(alice).post(f"/jobs/{job.id}/keep").json()["id"])
        return alice, job, 409, "This job's video is already kept"
    if case == "viewer":
        Membership.objects.create(project=project, user=bob, role=Membership.Role.VIEWER)
        return bob, job, 403, "You are a viewer of this project: only editors can edit it."
    return bob, job, 404, ""  # an outsider: no such job, as far as bob can tell


@pytest.mark.parametrize("case", ["not-canceled", "never-submitted", "already-kept", "viewer", "outsider"])
def test_a_refused_keep_changes_nothing(project, alice, bob, gemini, case):
    who, job, status, message = refusal_of(case, project, alice, bob)
    before, job_before = rows(), Job.objects.filter(pk=job.pk).values().get()
    spent_before = spent(alice)

    response = Api(who).post(f"/jobs/{job.id}/keep")

    assert response.status_code == status, response.content
    assert error_of(response)["message"].startswith(message)
    assert rows() == before
    assert Job.objects.filter(pk=job.pk).values().get() == job_before
    assert spent(alice) == spent_before
    assert len(gemini.submitted()) == (0 if case == "never-submitted" else 1)
