"""Per-user limits on starting runs, raced by 20 requests at once on real PostgreSQL and Redis; and
generation slots on real RQ workers: a run needing more video generations than allowed runs them all,
never more than allowed at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connections
from django.utils import timezone

from generation import quotas
from generation.models import Job, Run
from generation.planning import plan_run
from nodes.models import Node
from providers.local_video import submit_count
from tests.api import Api, error_of
from tests.factories import ProjectFactory
from tests.graphs import add, run_here, wait_for_run, wire
from tests.workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

RACERS = 20


def films(owner, count: int):
    """`count` projects of `owner`, each a prompt wired into one 4-second video."""
    made = []
    for number in range(count):
        project = ProjectFactory(owner=owner, name=f"Film {number}")
        prompt = add(project, "prompt", text=f"Shot {number}: a lighthouse in a storm")
        video = add(project, "video", duration_seconds=4)
        wire(prompt, "text", video, "prompt")
        made.append(project)
    return made


def at_once(user, paths: list[str], body=None) -> list:
    """POST to every path at the same moment, one thread (and database connection) each."""
    apis = [Api(user) for _ in paths]
    barrier = threading.Barrier(len(paths))

    def send(index):
        barrier.wait()
        try:
            return apis[index].post(paths[index], body)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(len(paths)) as pool:
        return list(pool.map(send, range(len(paths))))


def race(user, projects) -> list:
    """Start a run of every project at the same moment."""
    return at_once(user, [f"/projects/{project.id}/runs" for project in projects], {"targets": []})


def refusals(responses, limit: str) -> list[dict]:
    refused = [error_of(response) for response in responses if response.status_code == 429]
    assert {error["code"] for error in refused} <= {"quota_exceeded"}
    assert {error["details"]["limit"] for error in refused} <= {limit}
    assert sorted({r.status_code for r in responses}) in ([200], [429], [200, 429])
    return refused


def ready_films(owner, count: int):
    """`films` whose prompts have run already: a run of each makes one video job, ready at once."""
    made = films(owner, count)
    for project in made:
        prompt = Node.objects.get(project=project, type="prompt")
        run_here(plan_run(project, [prompt.id], user=owner).run, prompt)
    return made


def slots(owner) -> tuple[int, int]:
    """(video jobs holding a slot, video jobs waiting for one) of `owner`."""
    videos = Job.objects.filter(created_by=owner, queue="video")
    holding = videos.filter(status__in=(Job.Status.QUEUED, Job.Status.RUNNING), waits_for_slot=False).count()
    return holding, videos.filter(status=Job.Status.WAITING, waits_for_slot=True).count()


def test_generation_slots_hold_under_a_race_of_runs_and_one_of_endings(alice, redis, quota_limits):
    quota_limits.MAX_CONCURRENT_GENERATIONS = 5
    projects = ready_films(alice, RACERS)

    responses = race(alice, projects)

    assert [response.status_code for response in responses] == [200] * RACERS  # more than allowed: none refused
    assert slots(alice) == (5, RACERS - 5)
    # Five generations end at the same moment: their five slots go to five waiting jobs, no more.
    holding = Job.objects.filter(created_by=alice, queue="video", status=Job.Status.QUEUED)
    ended = at_once(alice, [f"/jobs/{job.id}/cancel" for job in holding])
    assert [response.json()["status"] for response in ended] == ["canceled"] * 5
    assert slots(alice) == (5, RACERS - 10)


def test_the_daily_spend_cap_holds_under_a_race_and_says_when_it_resets(alice, bob, redis, quota_limits):
    projects = films(alice, RACERS)
    price = Decimal(Api(alice).post(f"/projects/{projects[0].id}/runs", {"dry_run": True}).json()["cost_estimate"])
    assert price > 0
    quota_limits.DAILY_SPEND_LIMIT_USD = price * 5 + price / 2

    responses = race(alice, projects)

    refused = refusals(responses, "daily_spend")
    assert len(refused) == RACERS - 5
    assert quotas.spent_today(Job.objects.filter(created_by=alice)) == price * 5
    details = refused[0]["details"]
    resets_at = datetime.fromisoformat(details["resets_at"])
    assert resets_at.utcoffset() == timedelta(0) and resets_at.time().isoformat() == "00:00:00"
    assert timedelta(0) < resets_at - timezone.now() <= timedelta(days=1)
    assert Decimal(details["spent"]) == price * 5 and Decimal(details["requested"]) == price
    assert "resets at 00:00 UTC" in refused[0]["message"]
    # Another user's budget is their own.
    (theirs,) = films(bob, 1)
    assert Api(bob).post(f"/projects/{theirs.id}/runs", {"targets": []}).status_code == 200


def test_the_run_rate_limit_holds_under_a_race_and_gives_retry_after(alice, redis, quota_limits):
    quota_limits.RUN_RATE_LIMIT = (7, "hour")
    projects = films(alice, RACERS)

    responses = race(alice, projects)

    refused = refusals(responses, "run_rate")
    assert len(refused) == RACERS - 7
    assert Job.objects.filter(created_by=alice).values("run").distinct().count() == 7
    late = next(response for response in responses if response.status_code == 429)
    assert 3500 < int(late["Retry-After"]) <= 3600
    assert error_of(late)["details"]["retry_after_seconds"] == int(late["Retry-After"])
    assert "at most 7 per hour" in error_of(late)["message"]
    # Dry runs (the canvas's plans) do not count; another user's window is their own.
    assert Api(alice).post(f"/projects/{projects[0].id}/runs", {"dry_run": True}).status_code == 200


# Generation slots on real workers -----------------------------------------------------------------------

SLOTS = 2
SIMULATED = {
    "REELGRAPH_MAX_CONCURRENT_GENERATIONS": str(SLOTS),
    "REELGRAPH_VIDEO_PROVIDER": "simulated",
    "REELGRAPH_SIMULATED_LATENCY": "1",
    "REELGRAPH_SIMULATED_RENDER_ONCE": "1",
}


def storyboard(owner, videos: int):
    """One prompt wired into `videos` independent 4-second videos."""
    project = ProjectFactory(owner=owner, name="Storyboard")
    prompt = add(project, "prompt", text="A lighthouse in a storm")
    for number in range(videos):
        wire(prompt, "text", add(project, "video", f"Shot {number}", duration_seconds=4), "prompt")
    return project


def most_at_once(jobs) -> int:
    """The most of `jobs` that were running at the same moment, from when each started and finished."""
    moments = sorted([(job.started_at, 1) for job in jobs] + [(job.finished_at, -1) for job in jobs])
    running = most = 0
    for _, change in moments:  # at the same instant an end comes before a start (-1 sorts first)
        running += change
        most = max(most, running)
    return most


def test_a_run_needing_more_generations_than_allowed_runs_them_all_never_more_than_allowed_at_once(
    alice, quota_limits, workers
):
    quota_limits.MAX_CONCURRENT_GENERATIONS = SLOTS
    project = storyboard(alice, videos=5)
    started = Api(alice).post(f"/projects/{project.id}/runs", {"targets": []})
    assert started.status_code == 200
    run = Run.objects.get(pk=started.json()["run"]["id"])
    videos = Job.objects.filter(run=run, queue="video")
    seen = []

    def sample_until_finished():
        # One query, one moment: what every video job of the run was doing.
        seen.append(list(videos.values_list("status", "waits_for_slot", "progress_label")))
        run.refresh_from_db()
        return run.status != Run.Status.RUNNING

    workers.start(2, **SIMULATED)
    wait_for(sample_until_finished, timeout=180, interval=0.05, message="the run to finish")

    assert run.status == Run.Status.SUCCEEDED, workers.logs()
    assert set(Node.objects.filter(project=project).values_list("status", flat=True)) == {Node.Status.SUCCEEDED}
    assert max(sum(status in ("queued", "running") for status, _, _ in moment) for moment in seen) <= SLOTS
    held = [(status, label) for moment in seen for status, waits, label in moment if waits]
    assert held, "no video was seen waiting for a slot"
    assert set(held) == {("waiting", f"Waiting for a free generation slot ({SLOTS} of {SLOTS} in use)")}
    assert most_at_once(list(videos)) == SLOTS  # the slots were used, and never one more


def test_a_job_canceled_while_it_waits_for_a_slot_never_runs(alice, quota_limits, workers):
    quota_limits.MAX_CONCURRENT_GENERATIONS = 1
    (project,) = ready_films(alice, 1)
    prompt = Node.objects.get(project=project, type="prompt")
    for title in ("Second shot", "Third shot"):
        wire(prompt, "text", add(project, "video", title, duration_seconds=4), "prompt")
    run = plan_run(project, [], user=alice).run
    first, canceled, last = run.jobs.order_by("created_at", "id")
    assert [job.status for job in (first, canceled, last)] == ["queued", "waiting", "waiting"]
    assert Api(alice).post(f"/jobs/{canceled.id}/cancel").json()["status"] == "canceled"
    submits = submit_count("simulated")

    workers.start(1, **{**SIMULATED, "REELGRAPH_MAX_CONCURRENT_GENERATIONS": "1"})
    wait_for_run(run)

    canceled.refresh_from_db()
    assert (canceled.status, canceled.attempts, canceled.started_at, canceled.provider_operation) == (
        "canceled",
        0,
        None,
        "",
    )
    assert [Job.objects.get(pk=job.pk).status for job in (first, last)] == ["succeeded", "succeeded"]
    assert submit_count("simulated") == submits + 2  # the canceled one never reached the provider
    assert run.status == Run.Status.CANCELED
    assert Node.objects.get(pk=canceled.node_id).status == Node.Status.CANCELED
