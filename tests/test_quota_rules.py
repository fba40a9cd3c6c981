"""The quota_limits of generation/quotas.py at their boundaries, with the clock frozen: exactly the limit is
allowed and one more is refused, with the words and details a client reads; what counts as spent
today; when each limit resets; exactly as many video jobs as there are generation slots queued, the
rest waiting for one and given it, oldest first, as generations end. Runs are planned through the
engine (no workers: their jobs stay queued; a prompt a test needs done runs in this process), and a
refused run leaves no row behind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from generation import endings, quotas, running
from generation.models import Job, Run
from generation.planning import plan_run
from generation.reconcile import reconcile
from nodes.models import Node
from tests.api import Api
from tests.factories import ProjectFactory
from tests.graphs import add, run_here, wire
from tests.test_event_contents import committed, heard

pytestmark = pytest.mark.django_db

EVENING = datetime(2026, 11, 29, 20, 0, tzinfo=UTC)
PRICE = Decimal("1.60")  # a 4-second video with the simulated provider, priced like Veo 3.1 at 720p


def film(owner, videos: int = 1, name: str = "Film"):
    """A project of `owner`: one prompt wired into `videos` 4-second videos."""
    project = ProjectFactory(owner=owner, name=name)
    prompt = add(project, "prompt", text="A lighthouse in a storm")
    for number in range(videos):
        video = add(project, "video", f"Shot {number}", duration_seconds=4)
        wire(prompt, "text", video, "prompt")
    return project


def refused(owner, project) -> dict:
    """Plan a run that must be refused; returns what the client reads, after checking nothing was written."""
    before = (Run.objects.count(), Job.objects.count())
    with pytest.raises(quotas.QuotaExceeded) as caught:
        plan_run(project, [], user=owner)
    assert (Run.objects.count(), Job.objects.count()) == before  # a refused run leaves no row
    return {"message": caught.value.message, "details": caught.value.details}


# Generation slots --------------------------------------------------------------------------------------


def ready_film(owner, videos: int = 1, name: str = "Film"):
    """A film whose prompt has run already: a run of it makes only video jobs, each ready at once."""
    project = film(owner, videos, name)
    prompt = Node.objects.get(project=project, type="prompt")
    run_here(plan_run(project, [prompt.id], user=owner).run, prompt)
    return project


def video_jobs(owner, **filters) -> list[Job]:
    """`owner`'s video jobs, oldest first (the order in which waiting ones get a slot)."""
    return list(Job.objects.filter(created_by=owner, queue="video", **filters).order_by("created_at", "id"))


def states(jobs) -> list[tuple[str, bool, str]]:
    return [(job.status, job.waits_for_slot, job.progress_label) for job in jobs]


QUEUED = ("queued", False, "")


def held(in_use: int, allowed: int) -> tuple[str, bool, str]:
    return ("waiting", True, f"Waiting for a free generation slot ({in_use} of {allowed} in use)")


def test_a_run_needing_more_generations_than_allowed_is_accepted_and_the_excess_waits_for_a_slot(
    alice, quota_limits, redis
):
    quota_limits.MAX_CONCURRENT_GENERATIONS = 2
    project = ready_film(alice, videos=5)

    plan = plan_run(project, [], user=alice)

    assert plan.run.status == Run.Status.RUNNING and len(plan.jobs) == 5
    jobs = video_jobs(alice)
    assert states(jobs) == [QUEUED, QUEUED, held(2, 2), held(2, 2), held(2, 2)]  # exactly the limit, oldest first
    assert set(Node.objects.filter(project=project, type="video").values_list("status", flat=True)) == {"queued"}
    # What the API says of a node and of a job held back: queued, and why it does not start.
    api = Api(alice)
    waiting = jobs[-1]
    node = api.get(f"/projects/{project.id}/nodes/{waiting.node_id}").json()
    assert (node["status"], node["job_id"], node["progress_label"]) == (
        "queued",
        str(waiting.id),
        "Waiting for a free generation slot (2 of 2 in use)",
    )
    job = api.get(f"/jobs/{waiting.id}").json()
    assert (job["status"], job["waits_for_slot"], job["progress_label"]) == held(2, 2)
    assert (api.get(f"/jobs/{jobs[0].id}").json()["waits_for_slot"]) is False


def test_videos_released_by_their_input_take_the_free_slots_and_the_rest_show_why_they_wait(
    alice, quota_limits, redis, django_capture_on_commit_callbacks
):
    quota_limits.MAX_CONCURRENT_GENERATIONS = 2
    project = film(alice, videos=3)
    plan = plan_run(project, [], user=alice)
    assert states(video_jobs(alice)) == [("waiting", False, "")] * 3  # waiting for the prompt, holding no slot
    prompt = Node.objects.get(project=project, type="prompt")

    _, sent = heard(project.id, committed(django_capture_on_commit_callbacks, lambda: run_here(plan.run, prompt)))

    jobs = video_jobs(alice)
    assert states(jobs) == [QUEUED, QUEUED, held(2, 2)]
    # The held node's card is told why it waits.
    statuses = [e["node"] for e in sent if e["type"] == "node.status" and e["node"]["id"] == str(jobs[2].node_id)]
    assert [(n["status"], n["job_id"], n["progress_label"]) for n in statuses] == [
        ("queued", str(jobs[2].id), "Waiting for a free generation slot (2 of 2 in use)")
    ]


@pytest.mark.parametrize(
    "end",
    [
        lambda job: endings.cancel(job, "Canceled by the test."),
        lambda job: endings.fail(job, "provider_error", "The provider said no."),
        lambda job: endings.needs_attention(job, "the connection dropped"),
    ],
    ids=["canceled", "failed", "needs_attention"],
)
def test_an_ended_generation_hands_its_slot_to_the_oldest_waiting_one_in_any_project(
    alice, quota_limits, redis, django_capture_on_commit_callbacks, end
):
    quota_limits.MAX_CONCURRENT_GENERATIONS = 1
    first, second, third = ready_film(alice), ready_film(alice, name="Second"), ready_film(alice, name="Third")
    for project in (first, second, third):
        plan_run(project, [], user=alice)
    running_one, older, newer = video_jobs(alice)
    assert states([running_one, older, newer]) == [QUEUED, held(1, 1), held(1, 1)]

    _, sent = heard(second.id, committed(django_capture_on_commit_callbacks, lambda: end(running_one)))

    assert states(video_jobs(alice, status__in=Job.ACTIVE)) == [QUEUED, held(1, 1)]
    older.refresh_from_db()
    newer.refresh_from_db()
    assert states([older, newer]) == [QUEUED, held(1, 1)]
    # The card of the node that got the slot no longer says it waits.
    (shown,) = [e["node"] for e in sent if e["type"] == "node.status"]
    assert (shown["id"], shown["status"], shown["progress_label"]) == (str(older.node_id), "queued", "")


def test_a_job_canceled_while_it_waits_for_a_slot_is_never_given_one(alice, quota_limits, redis):
    quota_limits.MAX_CONCURRENT_GENERATIONS = 1
    project = ready_film(alice, videos=3)
    plan_run(project, [], user=alice)
    running_one, canceled, last = video_jobs(alice)
    api = Api(alice)

    answer = api.post(f"/jobs/{canceled.id}/cancel").json()

    assert (answer["status"], answer["waits_for_slot"], answer["progress_label"]) == ("canceled", False, "")
    assert Node.objects.get(pk=canceled.node_id).status == Node.Status.CANCELED
    assert api.post(f"/jobs/{running_one.id}/cancel").status_code == 200
    assert states(video_jobs(alice, status__in=Job.ACTIVE)) == [QUEUED]
    assert video_jobs(alice, status__in=Job.ACTIVE)[0].pk == last.pk  # the slot skipped the canceled one
    running.run_job(str(canceled.id))  # a stray delivery: it is not queued, so nothing runs
    canceled.refresh_from_db()
    assert (canceled.status, canceled.attempts, canceled.started_at) == ("canceled", 0, None)


def test_the_reconciler_gives_a_free_slot_nobody_handed_on_to_the_oldest_waiting_job(alice, quota_limits, redis):
    quota_limits.MAX_CONCURRENT_GENERATIONS = 1
    plan_run(ready_film(alice, videos=4), [], user=alice)
    assert states(video_jobs(alice)) == [QUEUED, held(1, 1), held(1, 1), held(1, 1)]
    # A slot frees without an ending to hand it on (here the limit is raised; a crash does the same).
    quota_limits.MAX_CONCURRENT_GENERATIONS = 3

    counts = reconcile()

    assert counts["admitted"] == 2
    assert states(video_jobs(alice)) == [QUEUED, QUEUED, QUEUED, held(1, 1)]
    assert reconcile()["admitted"] == 0  # full again: nothing more


def test_a_run_without_video_is_never_held_back_by_busy_generations(alice, quota_limits, redis):
    quota_limits.MAX_CONCURRENT_GENERATIONS = 1
    plan_run(ready_film(alice), [], user=alice)
    words = ProjectFactory(owner=alice, name="Words only")
    add(words, "prompt", text="A line")

    (job,) = plan_run(words, [], user=alice).run.jobs.all()

    assert (job.queue, job.status, job.waits_for_slot) == ("text", "queued", False)


def test_no_limit_means_no_job_waits_for_a_slot(alice, quota_limits, redis):
    plan_run(ready_film(alice, videos=3), [], user=alice)

    assert states(video_jobs(alice)) == [QUEUED] * 3


def test_another_user_s_generations_do_not_take_my_slots(alice, bob, quota_limits, redis):
    quota_limits.MAX_CONCURRENT_GENERATIONS = 1
    plan_run(ready_film(bob), [], user=bob)

    plan_run(ready_film(alice), [], user=alice)

    assert states(video_jobs(alice)) == [QUEUED] and states(video_jobs(bob)) == [QUEUED]


# Daily spend -------------------------------------------------------------------------------------------


@time_machine.travel(EVENING, tick=False)
def test_spend_up_to_exactly_the_daily_limit_is_allowed_and_beyond_it_refused(alice, quota_limits, redis):
    quota_limits.DAILY_SPEND_LIMIT_USD = PRICE * 2
    plan_run(film(alice), [], user=alice)
    plan_run(film(alice, name="Second"), [], user=alice)  # exactly the limit

    answer = refused(alice, film(alice, name="Third"))

    assert answer == {
        "message": "This run would cost an estimated $1.60; you have spent $3.20 of your $3.20 a day. "
        "The daily limit resets at 00:00 UTC (in 4 h 0 min).",
        "details": {
            "limit": "daily_spend",
            "resets_at": "2026-11-30T00:00:00+00:00",
            "retry_after_seconds": 4 * 3600,
            "allowed": "3.20",
            "spent": "3.20",
            "requested": "1.60",
        },
    }


@time_machine.travel(EVENING, tick=False)
def test_the_daily_limit_refuses_up_front_what_waiting_for_slots_would_not_make_affordable(alice, quota_limits, redis):
    quota_limits.MAX_CONCURRENT_GENERATIONS = 1
    quota_limits.DAILY_SPEND_LIMIT_USD = PRICE * 2

    answer = refused(alice, ready_film(alice, videos=3, name="Too much"))  # rows unchanged: checked in refused

    assert answer["details"]["limit"] == "daily_spend" and answer["details"]["requested"] == "4.80"
    plan_run(ready_film(alice, videos=2), [], user=alice)  # exactly the limit: one runs, one waits
    assert states(video_jobs(alice)) == [QUEUED, held(1, 1)]
    assert quotas.spent_today(Job.objects.filter(created_by=alice)) == PRICE * 2  # the waiting one counts
    assert refused(alice, ready_film(alice, name="One more"))["details"]["spent"] == "3.20"


def test_spent_today_counts_what_runs_will_cost_what_ended_ones_cost_and_nothing_of_yesterday(
    alice, quota_limits, redis
):
    mine = Job.objects.filter(created_by=alice)
    with time_machine.travel(EVENING - timedelta(hours=20, seconds=1), tick=False):  # 23:59:59 the day before
        plan_run(film(alice, name="Yesterday"), [], user=alice)
    with time_machine.travel(EVENING, tick=False):
        assert quotas.spent_today(mine) == 0
        plan_run(film(alice), [], user=alice)
        assert quotas.spent_today(mine) == PRICE  # queued: counted at its estimate

        job = mine.get(project__name="Film", queue="video")
        endings.cancel(job, "Canceled before anything was sent.")
        assert quotas.spent_today(mine) == 0  # ended before a submit: nothing was paid

        plan_run(film(alice, name="Paid"), [], user=alice)
        paid = mine.get(project__name="Paid", queue="video")
        Job.objects.filter(pk=paid.pk).update(status=Job.Status.SUCCEEDED, cost_actual=Decimal("1.25"))
        assert quotas.spent_today(mine) == Decimal("1.25")  # ended: what it really cost


def test_the_daily_limit_resets_at_midnight_utc(alice, quota_limits, redis):
    quota_limits.DAILY_SPEND_LIMIT_USD = PRICE
    with time_machine.travel(EVENING, tick=False):
        plan_run(film(alice), [], user=alice)
        refused(alice, film(alice, name="Too much"))
    with time_machine.travel(datetime(2026, 11, 30, 0, 0, tzinfo=UTC), tick=False):
        assert plan_run(film(alice, name="Next day"), [], user=alice).run is not None


def test_a_free_run_is_never_refused_for_spend(alice, quota_limits, redis):
    quota_limits.DAILY_SPEND_LIMIT_USD = Decimal("0.01")
    words = ProjectFactory(owner=alice, name="Words only")
    add(words, "prompt", text="A line")

    assert plan_run(words, [], user=alice).run is not None


@pytest.mark.parametrize(
    ("clock", "said"),
    [
        ((23, 59, 59), "in 1 s"),
        ((23, 58, 1), "in 119 s"),
        ((23, 58, 0), "in 2 min"),
        ((22, 0, 1), "in 119 min"),
        ((22, 0, 0), "in 2 h 0 min"),
        ((3, 58, 30), "in 20 h 1 min"),
    ],
)
def test_the_reset_is_said_in_seconds_then_minutes_then_hours(alice, quota_limits, clock, said):
    quota_limits.DAILY_SPEND_LIMIT_USD = Decimal("1")
    moment = datetime(2026, 11, 29, *clock, tzinfo=UTC)
    with time_machine.travel(moment, tick=False), pytest.raises(quotas.QuotaExceeded) as caught:
        quotas.check_run(alice, [("video", Decimal("2"))])

    assert caught.value.message.endswith(f"The daily limit resets at 00:00 UTC ({said}).")


@pytest.mark.parametrize(("until", "seconds"), [(0.2, 1), (10.0, 10), (10.001, 11), (-5, 1)])
def test_a_client_waits_whole_seconds_rounded_up_and_at_least_one(until, seconds):
    with time_machine.travel(EVENING, tick=False):
        assert quotas._seconds_until(EVENING + timedelta(seconds=until)) == seconds


# Runs per period ---------------------------------------------------------------------------------------


def test_the_run_rate_window_slides(alice, quota_limits, redis):
    quota_limits.RUN_RATE_LIMIT = (2, "minute")
    with time_machine.travel(EVENING, tick=False):
        quotas.check_run_rate(alice)
    with time_machine.travel(EVENING + timedelta(seconds=20), tick=False):
        quotas.check_run_rate(alice)
        with pytest.raises(quotas.QuotaExceeded) as caught:
            quotas.check_run_rate(alice)
    assert caught.value.message == "Too many runs started: at most 2 per minute. You can start the next one in 40 s."
    assert caught.value.details == {
        "limit": "run_rate",
        "resets_at": (EVENING + timedelta(seconds=60)).isoformat(),
        "retry_after_seconds": 40,
        "allowed": 2,
        "period_seconds": 60,
    }
    with time_machine.travel(EVENING + timedelta(seconds=60, milliseconds=1), tick=False):
        quotas.check_run_rate(alice)  # the first run has left the window
        with pytest.raises(quotas.QuotaExceeded):
            quotas.check_run_rate(alice)  # the second (at +20 s) and this one fill it again


def test_each_user_has_their_own_window(alice, bob, quota_limits, redis):
    quota_limits.RUN_RATE_LIMIT = (1, "hour")
    with time_machine.travel(EVENING, tick=False):
        quotas.check_run_rate(alice)
        quotas.check_run_rate(bob)
        with pytest.raises(quotas.QuotaExceeded):
            quotas.check_run_rate(alice)
