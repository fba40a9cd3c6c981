"""Per-user limits on starting runs, raced by 20 requests at once on real PostgreSQL and Redis."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connections
from django.utils import timezone

from generation import quotas
from generation.models import Job
from tests.api import Api, error_of
from tests.factories import ProjectFactory
from tests.graphs import add, wire

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


def race(user, projects) -> list:
    """Start a run of every project at the same moment, one thread (and database connection) each."""
    apis = [Api(user) for _ in projects]
    barrier = threading.Barrier(len(projects))

    def start(index):
        barrier.wait()
        try:
            return apis[index].post(f"/projects/{projects[index].id}/runs", {"targets": []})
        finally:
            connections.close_all()

    with ThreadPoolExecutor(len(projects)) as pool:
        return list(pool.map(start, range(len(projects))))


def refusals(responses, limit: str) -> list[dict]:
    refused = [error_of(response) for response in responses if response.status_code == 429]
    assert {error["code"] for error in refused} <= {"quota_exceeded"}
    assert {error["details"]["limit"] for error in refused} <= {limit}
    assert sorted({r.status_code for r in responses}) in ([200], [429], [200, 429])
    return refused


def test_concurrent_generations_hold_under_a_race_and_free_up_when_one_ends(alice, redis, quota_limits):
    quota_limits.MAX_CONCURRENT_GENERATIONS = 5
    projects = films(alice, RACERS)

    responses = race(alice, projects)

    accepted = [response for response in responses if response.status_code == 200]
    refused = refusals(responses, "concurrent_generations")
    assert len(accepted) == 5 and len(refused) == RACERS - 5
    assert Job.objects.filter(created_by=alice, queue="video", status__in=Job.ACTIVE).count() == 5
    assert refused[0]["details"] | {"in_use": 5} == refused[0]["details"]
    # Nobody knows when a generation ends (11 s to 6 min with Veo): no estimate, and the message
    # says what to do instead, as the README promises.
    assert refused[0]["details"]["resets_at"] is None and refused[0]["details"]["retry_after_seconds"] is None
    assert not any(response.has_header("Retry-After") for response in responses)
    assert "at most 5 may run at once" in refused[0]["message"]
    assert "Wait for one to finish (or cancel one), then run again." in refused[0]["message"]
    # Ending one generation frees its place.
    api = Api(alice)
    job = Job.objects.filter(created_by=alice, queue="video").first()
    assert api.post(f"/jobs/{job.id}/cancel").status_code == 200
    waiting = next(p for p in projects if not Job.objects.filter(project=p).exists())
    assert api.post(f"/projects/{waiting.id}/runs", {"targets": []}).status_code == 200
    assert api.post(f"/projects/{projects[-1].id}/runs", {"targets": [], "dry_run": True}).status_code == 200


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
