"""A Veo submit whose outcome is unknown is never repeated on its own: the job needs attention, its
estimated cost counts as spent, and only the user's new run submits again. Against the loopback
Gemini server, through the real google-genai SDK; the steps run in this process, as a worker runs them."""

from decimal import Decimal

import pytest
from django.test import override_settings

from generation import quotas, running
from generation.models import Job, Run
from generation.planning import plan_run
from generation.reconcile import reconcile
from nodes.models import Node
from tests.api import Api
from tests.fakes.gemini import Accept, GeminiFake, api_error
from tests.graphs import run_here, text_to_video

pytestmark = [pytest.mark.django_db(transaction=True)]

VEO = {"video": "veo", "text": "local", "faces": "local"}


@pytest.fixture
def gemini(tmp_path, redis):
    with (
        GeminiFake(tmp_path) as fake,
        override_settings(
            GEMINI_API_KEY="test-key",
            GEMINI_BASE_URL=fake.url,
            PROVIDERS=VEO,
            VEO_POLL_SECONDS=0.1,
            VEO_SUBMIT_TIMEOUT_SECONDS=1,
        ),
    ):
        yield fake


def submit_once(project, alice, video_node, prompt):
    run = plan_run(project, [video_node.id], user=alice).run
    return run, run_here(run, prompt, video_node)


@pytest.mark.parametrize(
    ("answer", "why", "created"),
    [
        (Accept(delay=3), "Veo did not answer within 1 s after the request was sent", 1),
        (Accept(drop=True), "The connection to Veo broke after the request was sent", 1),
        (api_error(500, "Internal error.", "INTERNAL"), "Veo answered the request with a server error", 0),
        (
            Accept(fail=api_error(500, "Internal error.", "INTERNAL")),
            "Veo answered the request with a server error",
            1,
        ),
    ],
    ids=["answer-after-timeout", "connection-dropped", "server-error", "server-error-after-starting-it"],
)
def test_an_unknown_submit_outcome_needs_attention_and_is_never_repeated(project, alice, gemini, answer, why, created):
    prompt, video = text_to_video(project, "Once", duration_seconds=8)
    gemini.submits.append(answer)

    run, job = submit_once(project, alice, video, prompt)

    assert job.status == Job.Status.NEEDS_ATTENTION
    assert job.error_message.startswith(
        "Google Veo 3.1 may have started this video; running it again may charge again (about $3.20). " + why
    )
    assert job.cost_actual == job.cost_estimate == Decimal("3.20")
    assert quotas.spent_today(Job.objects.filter(created_by=alice)) == Decimal("3.20")
    video.refresh_from_db()
    run.refresh_from_db()
    assert (video.status, video.error_message) == (Node.Status.NEEDS_ATTENTION, job.error_message)
    assert run.status == Run.Status.NEEDS_ATTENTION
    api = Api(alice)
    assert api.get(f"/jobs/{job.id}").json()["status"] == "needs_attention"
    assert api.get(f"/runs/{run.id}").json()["status"] == "needs_attention"

    # Nothing takes it up again on its own: not the reconciler, not a late delivery of the RQ job.
    reconcile()
    running.run_job(str(job.id))
    running.poll_job(str(job.id))
    job.refresh_from_db()
    assert job.status == Job.Status.NEEDS_ATTENTION
    assert len(gemini.submitted()) == 1 and gemini.operations_created == created


def test_running_the_node_again_is_the_users_choice_and_submits_again(project, alice, gemini):
    prompt, video = text_to_video(project, "Again")
    gemini.submits.append(Accept(delay=3))
    submit_once(project, alice, video, prompt)

    run = plan_run(project, [video.id], user=alice).run
    job = run_here(run, video)
    while job.status == Job.Status.RUNNING:  # waiting on the operation: poll it as the worker would
        running.poll_job(str(job.id))
        job.refresh_from_db()

    assert job.status == Job.Status.SUCCEEDED
    assert (job.provider, job.model) == ("veo", "veo-3.1-generate-preview")  # Veo 3.1, not Fast
    assert gemini.operations_created == 2  # the user chose to pay again
    video.refresh_from_db()
    assert video.status == Node.Status.SUCCEEDED and video.takes.count() == 1


def test_a_plan_that_would_submit_again_says_it_may_charge_again(project, alice, gemini):
    """Running anything downstream runs the node again too: the plan the user confirms says so, rather
    than "never run" (a node of unknown outcome has no take)."""
    prompt, video = text_to_video(project, "Unsure")
    gemini.submits.append(Accept(delay=3))
    submit_once(project, alice, video, prompt)

    plan = plan_run(project, [video.id], user=alice, dry_run=True)

    (planned,) = [planned for planned in plan.nodes if planned.node_id == str(video.id)]
    assert (planned.action, planned.reason) == (
        "run",
        "its last request may have been made and billed: running it again may charge again",
    )
    assert planned.cost == Decimal("1.60")  # 4 s of Veo 3.1 at 720p, paid again if confirmed
    assert gemini.operations_created == 1  # a plan submits nothing


def test_a_step_that_finds_an_earlier_submit_unfinished_does_not_submit_again(project, alice, gemini):
    """What a worker that died inside the submit leaves: the intent, and no operation."""
    prompt, video = text_to_video(project, "Crashed")
    run = plan_run(project, [video.id], user=alice).run
    run_here(run, prompt)
    job = Job.objects.get(run=run, node=video)
    Job.objects.filter(pk=job.pk).update(state={**job.state, "submitting": {"at": "", "provider": "Google Veo 3.1"}})

    job = run_here(run, video)

    assert job.status == Job.Status.NEEDS_ATTENTION
    assert "An earlier attempt was stopped while it submitted" in job.error_message
    assert gemini.operations_created == 0


def test_a_video_generated_but_not_downloaded_is_failed_with_its_cost_counted(project, alice, gemini):
    prompt, video = text_to_video(project, "Lost file")
    gemini.download_answers.append(api_error(404, "File not found.", "NOT_FOUND"))
    _, job = submit_once(project, alice, video, prompt)

    running.poll_job(str(job.id))  # done at Google; the download fails

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.error_message.endswith("The video was generated, so it is billed (about $1.60).")
    assert job.cost_actual == Decimal("1.60")
    assert quotas.spent_today(Job.objects.filter(created_by=alice)) == Decimal("1.60")
    assert gemini.operations_created == 1
