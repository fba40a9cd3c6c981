"""The quota_limits of generation/quotas.py at their boundaries, with the clock frozen: exactly the limit is
allowed and one more is refused, with the words and details a client reads; what counts as spent
today; when each limit resets. Runs are planned through the engine (no workers: their jobs stay
queued), and a refused run leaves no row behind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from generation import endings, quotas
from generation.models import Job, Run
from generation.planning import plan_run
from tests.factories import ProjectFactory
from tests.graphs import add, wire

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


# Concurrent generations -------------------------------------------------------------------------------


def test_exactly_the_allowed_number_of_generations_may_run_and_one_more_is_refused(alice, quota_limits, redis):
    quota_limits.MAX_CONCURRENT_GENERATIONS = 2
    plan_run(film(alice, videos=2), [], user=alice)

    answer = refused(alice, film(alice, videos=1, name="One more"))

    assert answer == {
        "message": "This run needs 1 video generation and you have 2 video generations under way; "
        "at most 2 may run at once. Wait for one to finish (or cancel one), then run again.",
        "details": {
            "limit": "concurrent_generations",
            "resets_at": None,
            "retry_after_seconds": None,
            "allowed": 2,
            "in_use": 2,
            "requested": 1,
        },
    }


def test_the_refusal_counts_the_run_s_videos_in_words(alice, quota_limits, redis):
    quota_limits.MAX_CONCURRENT_GENERATIONS = 1
    plan_run(film(alice, videos=1), [], user=alice)

    answer = refused(alice, film(alice, videos=2, name="Two more"))

    assert answer["message"].startswith("This run needs 2 video generations and you have 1 video generation under way")


def test_an_ended_generation_frees_its_place(alice, quota_limits, redis):
    quota_limits.MAX_CONCURRENT_GENERATIONS = 1
    plan_run(film(alice), [], user=alice)
    second = film(alice, name="Second")
    refused(alice, second)

    endings.cancel(Job.objects.get(created_by=alice, queue="video"), "Canceled by the test.")

    assert plan_run(second, [], user=alice).run is not None


def test_a_run_without_video_is_not_held_back_by_busy_generations(alice, quota_limits, redis):
    quota_limits.MAX_CONCURRENT_GENERATIONS = 1
    plan_run(film(alice), [], user=alice)
    words = ProjectFactory(owner=alice, name="Words only")
    add(words, "prompt", text="A line")

    assert plan_run(words, [], user=alice).run.jobs.count() == 1


def test_no_limit_means_no_limit(alice, quota_limits, redis):
    plan_run(film(alice, videos=3), [], user=alice)

    assert plan_run(film(alice, videos=3, name="Three more"), [], user=alice).run.jobs.count() == 4


def test_another_user_s_generations_do_not_count(alice, bob, quota_limits, redis):
    quota_limits.MAX_CONCURRENT_GENERATIONS = 1
    plan_run(film(bob), [], user=bob)

    assert plan_run(film(alice), [], user=alice).run is not None


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
