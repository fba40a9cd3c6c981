"""What was paid stays counted: deleting a node mid-run and canceling after a submit keep the job, its
cost and the daily total right, and never leave a run open or a concurrency slot held."""

from decimal import Decimal

import pytest

from generation import endings, quotas
from generation.models import Job, Run
from generation.planning import plan_run
from generation.reconcile import reconcile
from nodes.models import Node
from tests.api import Api, error_of
from tests.graphs import run_here, text_to_video

pytestmark = [pytest.mark.django_db(transaction=True)]

PRICE_OF_4_SECONDS = Decimal("1.60")


@pytest.fixture
def simulated(settings, redis):
    settings.PROVIDERS = {**settings.PROVIDERS, "video": "simulated"}
    settings.SIMULATED_PROVIDER = {**settings.SIMULATED_PROVIDER, "latency": 30.0}
    return settings


def spent(user) -> Decimal:
    return quotas.spent_today(Job.objects.filter(created_by=user))


def generations_under_way(user) -> int:
    return Job.objects.filter(created_by=user, queue=quotas.GENERATION_QUEUE, status__in=Job.ACTIVE).count()


@pytest.mark.parametrize("moment", ["video-waiting", "prompt-queued", "operation-running"])
def test_deleting_a_node_mid_run_cancels_its_job_keeps_its_cost_and_closes_the_run(project, alice, simulated, moment):
    prompt, video = text_to_video(project, "Doomed")
    run = plan_run(project, [video.id], user=alice).run
    if moment == "operation-running":
        run_here(run, prompt, video)  # the video is submitted and waits on its operation
    doomed = prompt if moment == "prompt-queued" else video
    doomed_job = Job.objects.get(run=run, node=doomed)

    response = Api(alice).delete(f"/projects/{project.id}/nodes/{doomed.id}")

    assert response.status_code == 204
    assert not Node.objects.filter(pk=doomed.pk).exists()
    doomed_job.refresh_from_db()
    assert (doomed_job.status, doomed_job.node_id) == (Job.Status.CANCELED, None)  # the row outlives its node
    assert doomed_job.error_message == f"Canceled: {doomed.title} was deleted by alice."
    if moment == "video-waiting":
        run_here(run, prompt)  # the rest of the run goes on, and the run ends with it
    run.refresh_from_db()
    assert run.status == Run.Status.CANCELED and run.finished_at is not None
    assert set(run.jobs.values_list("status", flat=True)) <= set(Job.FINISHED)
    assert generations_under_way(alice) == 0
    paid = PRICE_OF_4_SECONDS if moment == "operation-running" else Decimal("0")
    assert doomed_job.cost_actual == (paid if paid else None)
    assert spent(alice) == paid
    assert Api(alice).get(f"/jobs/{doomed_job.id}").json()["node"] is None


def test_canceling_after_the_submit_counts_the_cost_against_the_daily_limit(project, alice, simulated):
    simulated.DAILY_SPEND_LIMIT_USD = Decimal("2.00")
    prompt, video = text_to_video(project, "Run and cancel")
    run = plan_run(project, [video.id], user=alice).run
    job = run_here(run, prompt, video)
    assert job.provider_operation  # submitted: the provider bills it from here

    endings.cancel_run(run, "Canceled by alice.")

    job.refresh_from_db()
    assert (job.status, job.cost_actual) == (Job.Status.CANCELED, PRICE_OF_4_SECONDS)
    assert spent(alice) == PRICE_OF_4_SECONDS
    response = Api(alice).post(f"/projects/{project.id}/runs", {"targets": [str(video.id)], "force": True})
    assert response.status_code == 429
    assert error_of(response)["details"]["limit"] == "daily_spend"
    assert error_of(response)["details"]["spent"] == "1.60"
    assert Run.objects.count() == 1  # nothing else started


def test_canceling_before_the_submit_costs_nothing(project, alice, simulated):
    _, video = text_to_video(project, "Never sent")
    run = plan_run(project, [video.id], user=alice).run

    endings.cancel_run(run)

    assert Job.objects.get(run=run, node=video).cost_actual is None
    assert spent(alice) == 0


def test_the_reconciler_closes_a_run_whose_jobs_have_all_ended(project, alice, simulated):
    """A run left open by an ending that never closed it (a crash between the two, or older code)."""
    _, video = text_to_video(project, "Stranded")
    run = plan_run(project, [video.id], user=alice).run
    Job.objects.filter(run=run).update(status=Job.Status.CANCELED)  # what the crash left behind

    reconcile()

    run.refresh_from_db()
    assert run.status == Run.Status.CANCELED and run.finished_at is not None
