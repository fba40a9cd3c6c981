"""Faults of the parts around the app, with real processes: the database or Redis going away while
daphne and the workers run. (A worker killed mid-job and a provider that hangs are in
test_engine_faults.py and test_provider_runs.py; the channel layer going away under an open canvas
in browser/test_outages.py.)"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
import requests
from django.conf import settings
from django.db import connection
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError

from generation import running
from generation.models import Job, Run
from generation.planning import plan_run
from projects.tokens import create_token
from providers.local_video import submit_count
from tests.browser.harness import daphne
from tests.faults import Proxy, queues_unreachable
from tests.graphs import run_here, text_to_video, wait_for_run
from tests.workers import test_database_url as database_url_of_tests
from tests.workers import wait_for, worker_environment

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def database_proxy() -> tuple[Proxy, str]:
    """A proxy in front of the test database, and a DATABASE_URL that goes through it."""
    db = connection.settings_dict
    host = db["OPTIONS"].get("host") or db["HOST"]
    if host.startswith("/"):
        target: tuple[str, int] | str = f"{host}/.s.PGSQL.{db['PORT'] or 5432}"
    else:
        target = (host, int(db["PORT"] or 5432))
    proxy = Proxy(target).start()
    url = urlsplit(database_url_of_tests())
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return proxy, f"postgresql://{db['USER']}{password}@127.0.0.1:{proxy.port}{url.path}"


def test_an_unreachable_database_is_a_503_with_the_standard_body_and_recovers_by_itself(alice, project, tmp_path):
    proxy, database_url = database_proxy()
    _, secret = create_token(alice, "outage")
    auth = {"Authorization": f"Bearer {secret}"}
    environment = worker_environment(DATABASE_URL=database_url)
    try:
        with daphne(settings.BASE_DIR, environment, tmp_path / "daphne.log") as base:
            assert requests.get(f"{base}/api/v1/projects", headers=auth, timeout=10).status_code == 200

            proxy.stop()
            down = requests.get(f"{base}/api/v1/projects", headers=auth, timeout=30)
            page = requests.get(f"{base}/accounts/login/", timeout=30)
            health = requests.get(f"{base}/api/v1/health", timeout=30)

            proxy.start()
            back = requests.get(f"{base}/api/v1/projects", headers=auth, timeout=10)
    finally:
        proxy.stop()
    assert down.status_code == 503 and down.headers["Retry-After"] == "5"
    assert down.json() == {
        "error": {
            "code": "database_unavailable",
            "message": "Reelgraph cannot reach its database right now; nothing was changed. Try again in a moment.",
            "details": {},
        }
    }
    assert page.status_code in (200, 503)  # the login form needs no database; if it did, a 503 page
    assert health.status_code == 503 and health.json()["database"] == "unavailable"
    assert back.status_code == 200 and back.json()["items"][0]["name"] == project.name


def test_a_redis_restart_mid_run_loses_nothing_and_submits_nothing_twice(alice, project, redis, workers):
    """Redis restarted without persistence: queues, scheduled polls and locks are gone. The
    workers reconnect, and the reconciler rebuilds the work from the database."""
    host, port = urlsplit(settings.REDIS_URL).hostname, urlsplit(settings.REDIS_URL).port
    proxy = Proxy((host, port)).start()
    through_proxy = f"redis://127.0.0.1:{proxy.port}/0"
    _, video = text_to_video(project)
    slow = {"REDIS_URL": through_proxy, "REELGRAPH_VIDEO_PROVIDER": "simulated", "REELGRAPH_SIMULATED_LATENCY": "8"}
    workers.start(2, **slow)
    try:
        run = plan_run(project, [video.id], user=alice).run
        job = wait_for(
            lambda: Job.objects.filter(run=run, node=video).exclude(provider_operation="").first(),
            timeout=60,
            message="the video job to store its operation",
        )
        assert submit_count("simulated") == 1

        proxy.stop()  # Redis goes away and comes back empty: queues, scheduled polls, locks, all gone.
        # Only the simulated provider's own records stay: they stand for Google's servers, not ours.
        lost = [key for key in redis.scan_iter() if not key.startswith(b"reelgraph:provider:")]
        redis.delete(*lost)
        assert any(key.startswith(b"rq:") for key in lost)
        time.sleep(2)
        proxy.start()

        assert wait_for_run(run, timeout=120).status == Run.Status.SUCCEEDED, workers.logs()
    finally:
        proxy.stop()
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.attempts == 1
    assert submit_count("simulated") == 1  # resumed the operation, never submitted again
    assert video.takes.count() == 1


def test_a_poll_that_loses_redis_midway_is_not_a_failure_and_is_taken_up_again_at_once(
    alice, project, redis, workers, settings, monkeypatch
):
    """The simulated provider keeps its operations in Redis, as Google keeps Veo's: reading one while
    Redis is away fails the poll, not the generation. The job must neither be failed (it is paid for)
    nor wait out its lease (the job timeout plus a minute) before it is polled again."""
    settings.PROVIDERS = {**settings.PROVIDERS, "video": "simulated"}
    settings.SIMULATED_PROVIDER = {**settings.SIMULATED_PROVIDER, "latency": 3.0}
    prompt, video = text_to_video(project)
    run = plan_run(project, [video.id], user=alice).run
    job = run_here(run, prompt, video)  # submitted: the operation is stored and a poll scheduled
    assert job.status == Job.Status.RUNNING and job.provider_operation and submit_count("simulated") == 1

    queues_unreachable(monkeypatch, "video")
    with pytest.raises(RedisConnectionError):
        running.poll_job(str(job.id))
    monkeypatch.undo()

    job.refresh_from_db()
    assert (job.status, job.error_code) == (Job.Status.RUNNING, "")
    assert job.lease_until is not None and job.lease_until <= timezone.now()
    video.refresh_from_db()
    assert video.status != video.Status.FAILED

    workers.start(1, REELGRAPH_VIDEO_PROVIDER="simulated", REELGRAPH_SIMULATED_LATENCY="3")
    assert wait_for_run(run, timeout=120).status == Run.Status.SUCCEEDED
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.attempts == 1
    assert submit_count("simulated") == 1 and video.takes.count() == 1
