"""How a job runs and ends, read where a user or a worker meets it: the Job, Run and Node rows, the
take, what depends on it, the retries put on RQ's schedule and the events sent. The steps run in this
process as a worker runs them (an RQ job is executed by an in-process SimpleWorker where RQ's part is
under test), against the offline providers and the test run's PostgreSQL and Redis."""

import os
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import django_rq
import pytest
import time_machine
from redis.exceptions import ConnectionError as RedisConnectionError
from rq import SimpleWorker
from rq.job import Job as RQJob

from assets.models import Asset
from assets.storage import store_file
from generation import endings, running
from generation.models import Job, Report, Run
from generation.planning import plan_run
from generation.reconcile import reconcile
from nodes.models import Node
from providers.contract import GeneratedVideo, PermanentProviderError, TransientProviderError
from providers.local_text import LocalTextProvider
from providers.local_video import SimulatedVideoProvider, submit_count
from tests.graphs import FIXTURES, add, text_to_video, upload, wire
from tests.test_event_contents import by_type, committed, heard

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture
def simulated(settings, redis):
    """Videos from the simulated provider, ready at once, with a script of failures (one per submit)."""
    settings.PROVIDERS = {"video": "simulated", "text": "local", "faces": "local"}
    settings.RETRY_INTERVALS = [5, 20]
    settings.JOB_TIMEOUT_SECONDS = 100

    def script(*steps):
        settings.SIMULATED_PROVIDER = {"latency": 0.0, "failures": list(steps), "render_once": True}

    script()
    return script


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def job_of(node: Node) -> Job:
    return Job.objects.select_related("run").get(node=node)


def scheduled(redis, queue: str, since: float | None = None) -> list[tuple[str, str, float]]:
    """What RQ will run later on `queue`: (function, first argument, seconds from `since`, NOW by
    default; RQ keeps whole seconds)."""
    found = []
    for rq_id, at in redis.zrange(f"rq:scheduled:{queue}", 0, -1, withscores=True):
        rq_job = RQJob.fetch(rq_id.decode(), connection=redis)
        found.append((rq_job.func_name, rq_job.args[0], at - (NOW.timestamp() if since is None else since)))
    return found


def work(queue: str, redis, *, due: bool = False) -> None:
    """What a worker does with the queue's jobs, in this process (RQ's SimpleWorker), then stop;
    `due`: first moves the scheduled jobs that are due onto the queue, as RQ's scheduler does."""
    SimpleWorker([django_rq.get_queue(queue)], connection=redis).work(burst=True, with_scheduler=due)


def retry_heard(job: Job, message: str) -> dict:
    """The event telling the canvas that the job's first attempt hit a passing provider error and is retried."""
    return {
        "type": "job.error",
        "job_id": str(job.id),
        "node_id": str(job.node_id),
        "run_id": str(job.run_id),
        "code": "provider_unavailable",
        "message": message,
        "retrying": True,
        "attempt": 1,
    }


def prompt_and_video(project, alice, capture, **video_params) -> tuple[Job, Job]:
    prompt, video = text_to_video(project, **video_params)
    with capture(execute=True):
        plan_run(project, [video.id], user=alice)
        running.run_job(str(job_of(prompt).id))  # the video's job is on its queue after this commits
    return job_of(prompt), job_of(video)


def video_into_cut(project, alice, capture) -> tuple[Node, Node, Run]:
    """prompt → video → stitch "Cut", planned, its prompt run: the video's job is next."""
    prompt, video = text_to_video(project)
    cut = add(project, "stitch", "Cut")
    wire(video, "video", cut, "videos")
    with capture(execute=True):
        run = plan_run(project, [cut.id], user=alice).run
        running.run_job(str(job_of(prompt).id))
    return video, cut, run


# Claiming and waiting on the provider


def test_a_claimed_job_is_leased_for_its_timeout_and_counts_the_attempt(project, alice, simulated, clock):
    prompt = add(project, "prompt", text="A lighthouse")
    job = plan_run(project, [prompt.id], user=alice).jobs[0]
    running.run_job(str(job.id))

    job.refresh_from_db()
    assert (job.status, job.attempts, job.started_at, job.finished_at) == ("succeeded", 1, NOW, NOW)
    assert (job.rq_job_id, job.worker) == ("", "")  # no RQ job: run here


def test_a_submitted_video_frees_its_worker_and_comes_back_with_a_scheduled_poll(
    project, alice, simulated, clock, redis, django_capture_on_commit_callbacks
):
    _, job = prompt_and_video(project, alice, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        running.run_job(str(job.id))

    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING and job.provider_operation.startswith("simulated-")
    assert (job.lease_until, job.next_poll_at) == (None, NOW + timedelta(seconds=0.5))
    assert (job.progress, job.progress_label) == (0.05, "Generating")
    assert (job.provider, job.model) == ("simulated", "reelgraph-simulated")
    assert "submitting" not in job.state  # the operation is stored: the outcome is known
    assert job.cache_key
    assert scheduled(redis, "video") == [("generation.tasks.poll_job", str(job.id), 0)]


def test_a_submitted_video_shows_its_progress_on_the_canvas(
    project, alice, simulated, django_capture_on_commit_callbacks
):
    """Events are read without a frozen clock: the channel layer orders a group's messages by time."""
    _, job = prompt_and_video(project, alice, django_capture_on_commit_callbacks)

    _, sent = heard(project.id, committed(django_capture_on_commit_callbacks, lambda: running.run_job(str(job.id))))

    progress = {"type": "node.progress", "node_id": str(job.node_id), "job_id": str(job.id)}
    assert [event for event in sent if event["type"] != "node.status"] == [
        progress | {"progress": 0.04, "label": "Submitting to Simulated provider"},
        progress | {"progress": 0.05, "label": "Generating"},
    ]
    ((status,),) = [by_type(sent)["node.status"]]
    assert (status["node"]["status"], status["node"]["job_id"]) == ("running", str(job.id))  # the card shows its job


def test_a_poll_takes_up_only_a_job_whose_lease_is_free(
    project, alice, simulated, clock, django_capture_on_commit_callbacks
):
    _, job = prompt_and_video(project, alice, django_capture_on_commit_callbacks)
    running.run_job(str(job.id))
    Job.objects.filter(pk=job.pk).update(lease_until=NOW + timedelta(seconds=1))  # a worker holds it

    running.poll_job(str(job.id))
    job.refresh_from_db()
    assert (job.status, job.lease_until) == ("running", NOW + timedelta(seconds=1))

    clock.shift(timedelta(seconds=2))  # its lease ended: that worker is gone
    running.poll_job(str(job.id))
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED


def test_a_succeeded_video_is_a_take_of_its_node_releases_what_waits_and_ends_its_run(
    project, alice, simulated, clock, redis, django_capture_on_commit_callbacks
):
    video, cut, run = video_into_cut(project, alice, django_capture_on_commit_callbacks)
    job = job_of(video)
    Job.objects.filter(pk=job.pk).update(error_code="provider_unavailable", error_message="An earlier attempt failed.")
    running.run_job(str(job.id))
    redis.delete("rq:queue:text", "rq:queue:stitch", "rq:queue:default")

    with django_capture_on_commit_callbacks(execute=True):
        running.poll_job(str(job.id))

    job.refresh_from_db()
    assert (job.status, job.progress, job.progress_label, job.lease_until, job.finished_at) == (
        "succeeded",
        1.0,
        "Done",
        None,
        NOW,
    )
    assert (job.error_code, job.error_message) == ("", "")  # the earlier attempt's error is history
    assert job.cost_actual == Decimal("1.60")  # 4 s of Veo 3.1 at 720p
    assert set(job.outputs) == {"video", "last_frame"}
    video.refresh_from_db()
    take = video.takes.get()
    assert (take.number, take.job_id, take.outputs, take.cache_key) == (1, job.id, job.outputs, job.cache_key)
    assert (take.provider, take.model, take.params) == ("simulated", "reelgraph-simulated", job.params)
    assert "wiring" in job.state and take.details == {k: v for k, v in job.state.items() if k != "wiring"}
    assert take.details["generated"] is True
    assert (video.status, video.error_message, video.selected_take, video.output, video.cache_key) == (
        "succeeded",
        "",
        take,
        job.outputs,
        job.cache_key,
    )
    cutting = job_of(cut)
    assert cutting.status == Job.Status.QUEUED
    assert [
        RQJob.fetch(i.decode(), connection=redis).args for i in redis.lrange(f"rq:queue:{cutting.queue}", 0, -1)
    ] == [(str(cutting.id),)]
    running.run_job(str(cutting.id))
    run.refresh_from_db()
    assert (run.status, run.finished_at) == ("succeeded", NOW)


def test_a_dependant_waits_until_every_job_it_needs_has_succeeded(project, alice, simulated, redis):
    first = add(project, "prompt", "First", text="A lighthouse")
    second = add(project, "prompt", "Second", text="A storm")
    a, b = add(project, "video", "A", duration_seconds=4), add(project, "video", "B", duration_seconds=4)
    wire(first, "text", a, "prompt")
    wire(second, "text", b, "prompt")
    cut = add(project, "stitch", "Cut")
    wire(a, "video", cut, "videos")
    wire(b, "video", cut, "videos")
    plan_run(project, [cut.id], user=alice)
    for node in (first, second, a):
        running.run_job(str(job_of(node).id))
    running.poll_job(str(job_of(a).id))

    assert (job_of(a).status, job_of(cut).status) == ("succeeded", "waiting")  # B has not run
    running.run_job(str(job_of(b).id))
    running.poll_job(str(job_of(b).id))
    assert job_of(cut).status == Job.Status.QUEUED


def test_a_job_canceled_while_it_submitted_keeps_the_operation_it_pays_for(
    project, alice, simulated, monkeypatch, django_capture_on_commit_callbacks
):
    _, job = prompt_and_video(project, alice, django_capture_on_commit_callbacks)
    submit = SimulatedVideoProvider.submit

    def submit_then_canceled(provider, request):
        operation = submit(provider, request)
        endings.cancel_job(Job.objects.get(pk=job.pk), "Stopped by Alice.")  # the user, meanwhile
        return operation

    monkeypatch.setattr(SimulatedVideoProvider, "submit", submit_then_canceled)
    _, sent = heard(project.id, committed(django_capture_on_commit_callbacks, lambda: running.run_job(str(job.id))))

    job.refresh_from_db()
    assert (job.status, job.error_message) == ("canceled", "Stopped by Alice.")
    assert job.provider_operation.startswith("simulated-") and job.cost_actual == Decimal("1.60")
    assert (job.provider, job.model) == ("simulated", "reelgraph-simulated")
    assert job.cache_key and job.state["model"] == "veo-3.1-generate-preview"  # what collecting it needs
    statuses = by_type(sent)["node.status"]
    assert statuses[-1]["node"]["status"] == "canceled"
    assert len(statuses) == 3  # running; canceled; canceled with its video kept (no progress after the cancel)


# Retrying after a provider's passing trouble


@pytest.mark.django_db(transaction=True)  # a broken-off step checks its connection: not in a test's transaction
def test_a_passing_submit_error_is_retried_by_rq_after_the_first_interval(
    project, alice, simulated, clock, redis, django_capture_on_commit_callbacks
):
    simulated("transient")
    _, job = prompt_and_video(project, alice, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        work("video", redis)

    job.refresh_from_db()
    assert (job.status, job.attempts, job.lease_until) == ("queued", 1, None)
    assert job.error_code == "provider_unavailable"
    assert job.error_message == "The simulated provider is temporarily unavailable (503)."
    assert "submitting" not in job.state  # the error proves nothing was accepted: the next submit pays once
    assert job.rq_job_id == str(job.id) and job.worker  # the RQ job and the worker that ran it
    assert Node.objects.get(pk=job.node_id).status == Node.Status.QUEUED
    assert scheduled(redis, "video") == [("generation.tasks.run_job", str(job.id), 5.0)]

    clock.shift(timedelta(seconds=5))
    with django_capture_on_commit_callbacks(execute=True):
        work("video", redis, due=True)
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("running", 2)  # submitted anew: waiting on its operation
    assert job.started_at == NOW  # when it first started, not when it was retried


@pytest.mark.django_db(transaction=True)  # a broken-off step checks its connection: not in a test's transaction
def test_the_canvas_hears_that_a_passing_submit_error_will_be_retried(
    project, alice, simulated, redis, django_capture_on_commit_callbacks
):
    simulated("transient")
    _, job = prompt_and_video(project, alice, django_capture_on_commit_callbacks)

    _, sent = heard(project.id, lambda: work("video", redis))

    assert by_type(sent)["job.error"] == [retry_heard(job, "The simulated provider is temporarily unavailable (503).")]
    assert [event["node"]["status"] for event in by_type(sent)["node.status"]] == ["running", "queued"]


@pytest.mark.django_db(transaction=True)  # a broken-off step checks its connection: not in a test's transaction
def test_a_submit_still_failing_after_every_interval_fails_the_job(
    project, alice, simulated, redis, django_capture_on_commit_callbacks
):
    simulated("transient", "transient", "transient")
    _, job = prompt_and_video(project, alice, django_capture_on_commit_callbacks)
    Job.objects.filter(pk=job.pk).update(attempts=2)  # the first try and one retry are behind it

    with django_capture_on_commit_callbacks(execute=True):
        work("video", redis)

    job.refresh_from_db()
    assert (job.status, job.attempts, job.error_code) == ("failed", 3, "provider_unavailable")
    assert job.error_message == "The simulated provider is temporarily unavailable (503). Gave up after 3 attempts."
    assert scheduled(redis, "video") == []
    assert RQJob.fetch(str(job.id), connection=redis).get_status() == "failed"


def test_a_passing_submit_error_outside_rq_is_not_retried(
    project, alice, simulated, django_capture_on_commit_callbacks
):
    simulated("transient")
    _, job = prompt_and_video(project, alice, django_capture_on_commit_callbacks)

    running.run_job(str(job.id))

    job.refresh_from_db()
    assert (job.status, job.error_code) == ("failed", "provider_unavailable")
    assert job.error_message.endswith("(503). Gave up after 1 attempts.")


@pytest.mark.django_db(transaction=True)  # a broken-off step checks its connection: not in a test's transaction
def test_a_failed_job_under_rq_is_never_retried(project, alice, simulated, redis, django_capture_on_commit_callbacks):
    simulated("permanent:No lighthouses.")
    _, job = prompt_and_video(project, alice, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        work("video", redis)

    job.refresh_from_db()
    assert (job.status, job.attempts, job.error_message) == ("failed", 1, "No lighthouses.")
    assert scheduled(redis, "video") == []  # RQ's retries would submit (and pay) again
    rq_job = RQJob.fetch(str(job.id), connection=redis)
    assert rq_job.get_status() == "failed"
    assert rq_job.latest_result().exc_string.strip().endswith("JobFailed: No lighthouses.")  # RQ's record agrees


@pytest.fixture
def flaky_polls(monkeypatch):
    def poll(provider, operation):
        raise TransientProviderError("The simulated provider did not answer the poll (503).")

    monkeypatch.setattr(SimulatedVideoProvider, "poll", poll)


def test_a_passing_poll_error_schedules_the_next_poll_at_each_interval_then_fails(
    project, alice, simulated, redis, flaky_polls, django_capture_on_commit_callbacks
):
    _, job = prompt_and_video(project, alice, django_capture_on_commit_callbacks)
    running.run_job(str(job.id))
    redis.delete("rq:scheduled:video")
    other = running_elsewhere(project, alice)

    for failures, interval in ((1, 5.0), (2, 20.0)):
        since = time.time()
        _, sent = heard(
            project.id, committed(django_capture_on_commit_callbacks, lambda: running.poll_job(str(job.id)))
        )
        job.refresh_from_db()
        assert (job.status, job.lease_until, job.state["poll_failures"]) == ("running", None, failures)
        assert (job.error_code, job.error_message) == (
            "provider_unavailable",
            "The simulated provider did not answer the poll (503).",
        )
        ((function, argument, after),) = scheduled(redis, "video", since)
        assert (function, argument) == ("generation.tasks.poll_job", str(job.id))
        assert interval - 1 <= after <= interval + 1  # RQ keeps whole seconds; not how long anything took
        assert by_type(sent)["job.error"] == [retry_heard(job, "The simulated provider did not answer the poll (503).")]
        redis.delete("rq:scheduled:video")

    running.poll_job(str(job.id))

    job.refresh_from_db()
    assert (job.status, job.error_code) == ("failed", "provider_unavailable")
    assert job.error_message == "The simulated provider did not answer the poll (503). Gave up after 3 tries."
    assert untouched(other) == ("running", "", {"mine": True})
    assert scheduled(redis, "video") == []


# A step broken off by Redis or the database


@pytest.mark.django_db(transaction=True)  # a broken-off step checks its connection: not in a test's transaction
def test_a_step_broken_off_by_redis_hands_the_job_to_the_reconciler_at_once(
    project, alice, simulated, clock, monkeypatch, django_capture_on_commit_callbacks
):
    _, job = prompt_and_video(project, alice, django_capture_on_commit_callbacks)

    leases = []

    def redis_gone(provider, request):
        leases.append(Job.objects.get(pk=job.pk).lease_until)
        raise RedisConnectionError("Connection refused.")

    monkeypatch.setattr(SimulatedVideoProvider, "submit", redis_gone)
    other = running_elsewhere(project, alice)
    Job.objects.filter(pk=other.pk).update(lease_until=NOW + timedelta(seconds=30))  # its own worker holds it
    with pytest.raises(RedisConnectionError):
        running.run_job(str(job.id))

    assert leases == [NOW + timedelta(seconds=160)]  # held for the job timeout and a minute while it ran
    assert Job.objects.get(pk=other.pk).lease_until == NOW + timedelta(seconds=30)
    job.refresh_from_db()
    assert (job.status, job.error_code, job.lease_until) == ("running", "", NOW)  # not failed; its lease ends now
    assert "submitting" in job.state
    clock.shift(timedelta(seconds=1))
    reconcile()  # it may have reached the provider: the user decides, nothing submits it again
    job.refresh_from_db()
    assert (job.status, job.error_code) == ("needs_attention", "outcome_unknown")


@pytest.mark.django_db(transaction=True)
def test_a_job_ended_meanwhile_keeps_its_ending_when_its_step_breaks_off(
    project, alice, simulated, monkeypatch, django_capture_on_commit_callbacks
):
    _, job = prompt_and_video(project, alice, django_capture_on_commit_callbacks)

    def canceled_then_redis_gone(provider, request):
        endings.cancel_job(Job.objects.get(pk=job.pk))
        raise RedisConnectionError("Connection refused.")

    monkeypatch.setattr(SimulatedVideoProvider, "submit", canceled_then_redis_gone)
    with pytest.raises(RedisConnectionError):
        running.run_job(str(job.id))

    job.refresh_from_db()
    assert (job.status, job.lease_until) == ("canceled", None)


# Workers lost inside a step


@pytest.mark.parametrize(("attempts", "status"), [(2, "queued"), (3, "failed")])
def test_a_job_whose_worker_died_is_queued_again_until_its_tries_are_spent(
    project, alice, simulated, clock, redis, attempts, status
):
    prompt = add(project, "prompt", text="A lighthouse")
    job = plan_run(project, [prompt.id], user=alice).jobs[0]
    Job.objects.filter(pk=job.pk).update(status="running", attempts=attempts, lease_until=NOW - timedelta(seconds=1))

    reconcile()

    job.refresh_from_db()
    assert job.status == status  # two retry intervals: three attempts in all
    if status == "failed":
        assert (job.error_code, job.error_message) == (
            "worker_lost",
            "Its worker stopped before it finished. Gave up after 3 attempts.",
        )
        assert Node.objects.get(pk=prompt.pk).status == Node.Status.FAILED


def test_the_reconciler_closes_a_run_left_open_after_its_last_job_ended(project, alice, simulated):
    first = add(project, "prompt", "First", text="A lighthouse")
    second = add(project, "prompt", "Second", text="A storm")
    run = plan_run(project, [first.id, second.id], user=alice).run
    running.run_job(str(job_of(first).id))
    Job.objects.filter(node=second).update(status=Job.Status.SUCCEEDED)  # as a crash between the two could leave it

    assert reconcile()["runs_closed"] == 1

    run.refresh_from_db()
    assert run.status == Run.Status.SUCCEEDED and run.finished_at is not None


# Canceling


def test_canceling_a_job_waiting_on_its_video_counts_the_video_and_cancels_what_needs_it(
    project, alice, simulated, clock, redis, django_capture_on_commit_callbacks
):
    video, cut, run = video_into_cut(project, alice, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        running.run_job(str(job_of(video).id))
    job = job_of(video)

    assert endings.cancel_job(job, "Stopped by Alice.") is True

    job.refresh_from_db()
    assert (job.status, job.error_code, job.error_message) == ("canceled", "canceled", "Stopped by Alice.")
    assert (job.lease_until, job.finished_at, job.cost_actual) == (None, NOW, Decimal("1.60"))  # it is billed
    video.refresh_from_db()
    assert (video.status, video.error_message) == ("canceled", "Stopped by Alice.")
    cutting = job_of(cut)
    assert (cutting.status, cutting.error_message) == ("canceled", "Not run: Shot was canceled.")
    run.refresh_from_db()
    assert (run.status, run.finished_at) == ("canceled", NOW)
    assert endings.cancel_job(job, "Again.") is False
    job.refresh_from_db()
    assert job.error_message == "Stopped by Alice."


@pytest.mark.parametrize(("state", "cost"), [({}, None), ({"submitting": {"provider": "Veo"}}, Decimal("1.60"))])
def test_canceling_a_job_that_never_submitted_costs_nothing(project, alice, simulated, state, cost):
    _, video = text_to_video(project)
    job = plan_run(project, [video.id], user=alice).jobs[1]
    Job.objects.filter(pk=job.pk).update(status="running", state=state)

    assert endings.cancel_job(job) is True

    job.refresh_from_db()
    assert (job.status, job.cost_actual) == ("canceled", cost)  # one that may have submitted counts as spent


# How a run ends: the worst of its jobs' endings


def end_as(job: Job, ending: str) -> None:
    if ending == "succeeded":
        running.run_job(str(job.id))
    elif ending == "canceled":
        endings.cancel_job(job)
    else:
        Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)
        job.refresh_from_db()
        if ending == "failed":
            endings.fail_after_lost_workers(job)
        else:
            endings.needs_attention(job, "its worker stopped while submitting")


@pytest.mark.parametrize(
    ("ways", "outcome"),
    [
        (("succeeded", "succeeded", "succeeded"), "succeeded"),
        (("succeeded", "canceled", "succeeded"), "canceled"),
        (("canceled", "needs_attention", "succeeded"), "needs_attention"),
        (("needs_attention", "failed", "canceled"), "failed"),
        (("failed", "needs_attention", "canceled"), "failed"),
    ],
)
def test_a_run_ends_when_its_last_job_does_with_the_worst_of_their_endings(project, alice, simulated, ways, outcome):
    prompts = [add(project, "prompt", f"P{i}", text=f"Line {i}") for i in range(3)]
    run = plan_run(project, [p.id for p in prompts], user=alice).run

    for prompt, ending in zip(prompts, ways, strict=True):
        run.refresh_from_db()
        assert (run.status, run.finished_at, endings.finish_run(run)) == ("running", None, 0)  # a job is live
        end_as(job_of(prompt), ending)

    run.refresh_from_db()
    assert run.status == outcome and run.finished_at is not None
    assert endings.finish_run(run) == 0  # already closed
    assert [job_of(p).status for p in prompts] == list(ways)


# Failing


def test_a_kept_video_that_cannot_be_collected_says_its_cost_was_counted_once(
    project, alice, simulated, django_capture_on_commit_callbacks
):
    simulated("operation:The video could not be made.")
    _, job = prompt_and_video(project, alice, django_capture_on_commit_callbacks)
    Job.objects.filter(pk=job.pk).update(state={**job.state, "kept_from": str(uuid.uuid4())})
    running.run_job(str(job.id))

    running.poll_job(str(job.id))

    job.refresh_from_db()
    assert job.error_message == (
        "The video canceled earlier could not be kept: The generation failed: The video could not be made. "
        "Its cost was counted once, when canceled."
    )
    assert job.cost_actual is None


def test_a_kept_video_costs_nothing_again(project, alice, simulated, django_capture_on_commit_callbacks):
    _, job = prompt_and_video(project, alice, django_capture_on_commit_callbacks)
    Job.objects.filter(pk=job.pk).update(state={**job.state, "kept_from": str(uuid.uuid4())})
    running.run_job(str(job.id))

    running.poll_job(str(job.id))

    job.refresh_from_db()
    assert (job.status, job.cost_actual) == ("succeeded", Decimal("0"))


def test_a_poll_error_after_a_cancel_leaves_the_cancel_as_it_was(
    project, alice, simulated, monkeypatch, django_capture_on_commit_callbacks
):
    _, job = prompt_and_video(project, alice, django_capture_on_commit_callbacks)
    running.run_job(str(job.id))

    def canceled_then_no_answer(provider, operation):
        endings.cancel_job(Job.objects.get(pk=job.pk), "Stopped by Alice.")
        raise TransientProviderError("The simulated provider did not answer the poll (503).")

    monkeypatch.setattr(SimulatedVideoProvider, "poll", canceled_then_no_answer)
    running.poll_job(str(job.id))

    job.refresh_from_db()
    assert (job.status, job.error_code, job.error_message) == ("canceled", "canceled", "Stopped by Alice.")


# A step's scratch folder, its leftovers and what goes wrong inside it


def test_a_step_works_in_a_scratch_folder_named_after_its_process(
    project, alice, simulated, monkeypatch, django_capture_on_commit_callbacks
):
    """The worker sweeps the folders of dead processes by this name (generation.worker)."""
    _, job = prompt_and_video(project, alice, django_capture_on_commit_callbacks)
    running.run_job(str(job.id))
    folders = []
    download = SimulatedVideoProvider.download

    def recorded(provider, operation, workdir, **options):
        folders.append(Path(workdir))
        return download(provider, operation, workdir, **options)

    monkeypatch.setattr(SimulatedVideoProvider, "download", recorded)
    running.poll_job(str(job.id))

    (folder,) = folders
    assert folder.name.startswith(f"reelgraph-job-{os.getpid()}-")
    assert not folder.exists()  # removed with the step


def test_a_collection_finds_and_removes_what_a_dead_worker_stored_before_it(
    project, alice, simulated, caplog, django_capture_on_commit_callbacks
):
    _, job = prompt_and_video(project, alice, django_capture_on_commit_callbacks)
    running.run_job(str(job.id))
    left = store_file(project, FIXTURES / "astronaut.png", "image", meta={"job": str(job.id)})  # its files, no take

    with caplog.at_level("WARNING", logger="generation.running"):
        running.poll_job(str(job.id))

    assert not Asset.objects.filter(pk=left.pk).exists()
    assert f"job {job.id}: removed the files of a collection its last worker did not finish" in caplog.messages
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED


def test_a_video_that_cannot_be_read_fails_as_a_media_error_and_is_billed(
    project, alice, simulated, monkeypatch, django_capture_on_commit_callbacks
):
    _, job = prompt_and_video(project, alice, django_capture_on_commit_callbacks)
    running.run_job(str(job.id))

    def broken(provider, operation, workdir, **options):
        path = Path(workdir) / "broken.mp4"
        path.write_bytes(b"not a video")
        return GeneratedVideo(path=path, model=provider.model, billed_seconds=4)

    monkeypatch.setattr(SimulatedVideoProvider, "download", broken)
    running.poll_job(str(job.id))

    job.refresh_from_db()
    assert (job.status, job.error_code, job.cost_actual) == ("failed", "media_error", Decimal("1.60"))
    assert job.error_message.endswith("The video was generated, so it is billed (about $1.60).")


def test_settings_a_node_type_no_longer_takes_fail_the_job_naming_the_problem(project, alice, simulated):
    prompt = add(project, "prompt", text="A lighthouse")
    job = plan_run(project, [prompt.id], user=alice).jobs[0]
    Job.objects.filter(pk=job.pk).update(params={**job.params, "text": 42})  # as an older release stored them

    running.run_job(str(job.id))

    job.refresh_from_db()
    assert (job.status, job.error_code) == ("failed", "invalid_params")
    assert job.error_message == "The node's settings are not valid: Input should be a valid string."


def test_an_unexpected_error_fails_the_job_and_is_logged(
    project, alice, simulated, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    _, job = prompt_and_video(project, alice, django_capture_on_commit_callbacks)

    def bug(provider, request):
        raise KeyError("resolution")

    monkeypatch.setattr(SimulatedVideoProvider, "submit", bug)
    with caplog.at_level("ERROR", logger="generation.running"):
        running.run_job(str(job.id))

    job.refresh_from_db()
    assert (job.status, job.error_code) == ("failed", "internal_error")
    assert job.error_message == "Reelgraph failed unexpectedly (KeyError); it has been logged."
    assert f"job {job.id} failed unexpectedly" in caplog.messages


def test_a_video_canceled_while_it_downloaded_keeps_its_take_but_not_the_card(
    project, alice, simulated, caplog, monkeypatch, django_capture_on_commit_callbacks
):
    _, job = prompt_and_video(project, alice, django_capture_on_commit_callbacks)
    running.run_job(str(job.id))
    download = SimulatedVideoProvider.download

    def canceled_meanwhile(provider, operation, workdir, **options):
        endings.cancel_job(Job.objects.get(pk=job.pk), "Stopped by Alice.")
        return download(provider, operation, workdir, **options)

    monkeypatch.setattr(SimulatedVideoProvider, "download", canceled_meanwhile)
    with caplog.at_level("INFO", logger="generation.running"):
        running.poll_job(str(job.id))

    job.refresh_from_db()
    assert job.status == Job.Status.CANCELED
    node = Node.objects.get(pk=job.node_id)
    assert (node.status, node.selected_take, node.takes.get().number) == ("canceled", None, 1)  # paid: kept
    assert f"job {job.id} ended after it was canceled; its output is kept as take 1" in caplog.messages


# Duplicate deliveries and polls that are not due


def test_a_job_already_taken_is_not_run_again_and_one_without_an_operation_is_not_polled(
    project, alice, simulated, clock, caplog, django_capture_on_commit_callbacks
):
    _, job = prompt_and_video(project, alice, django_capture_on_commit_callbacks)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, attempts=1, lease_until=NOW - timedelta(seconds=1))

    with caplog.at_level("INFO", logger="generation.running"):
        running.run_job(str(job.id))  # a second delivery of the RQ job
        running.poll_job(str(job.id))  # its lease ended, but it has no operation to poll: submitting it is not a poll

    job.refresh_from_db()
    assert (job.status, job.attempts, job.provider_operation) == ("running", 1, "")
    assert submit_count("simulated") == 0
    assert caplog.messages == [
        f"job {job.id} is not queued (done, canceled or taken); nothing to do",
        f"job {job.id} has no operation to poll right now; nothing to do",
    ]


def test_the_reconciler_leaves_alone_a_job_whose_step_is_under_way(
    project, alice, simulated, clock, monkeypatch, django_capture_on_commit_callbacks
):
    """Each step holds its own job's lock: another worker's reconciler, meanwhile, finds its holder alive."""
    _, job = prompt_and_video(project, alice, django_capture_on_commit_callbacks)
    taken_over = []

    def reconciled_meanwhile(method):
        def step(provider, *args, **options):
            taken_over.append(reconcile()["taken_over"])
            return method(provider, *args, **options)

        return step

    monkeypatch.setattr(SimulatedVideoProvider, "submit", reconciled_meanwhile(SimulatedVideoProvider.submit))
    monkeypatch.setattr(SimulatedVideoProvider, "download", reconciled_meanwhile(SimulatedVideoProvider.download))
    running.run_job(str(job.id))
    job.refresh_from_db()
    assert (job.status, job.error_code) == ("running", "") and job.provider_operation.startswith("simulated-")
    running.poll_job(str(job.id))

    job.refresh_from_db()
    assert taken_over == [0, 0]  # while it submitted, and while its video downloaded
    assert job.status == Job.Status.SUCCEEDED and submit_count("simulated") == 1


def test_a_poll_waits_for_the_lease_to_be_over_not_just_due(
    project, alice, simulated, clock, django_capture_on_commit_callbacks
):
    _, job = prompt_and_video(project, alice, django_capture_on_commit_callbacks)
    running.run_job(str(job.id))
    Job.objects.filter(pk=job.pk).update(lease_until=NOW)

    running.poll_job(str(job.id))

    job.refresh_from_db()
    assert (job.status, job.lease_until) == ("running", NOW)


# Progress


def test_progress_is_kept_between_none_and_all_and_only_for_a_running_job(project, alice, simulated):
    prompt = add(project, "prompt", text="A lighthouse")
    job = plan_run(project, [prompt.id], user=alice).jobs[0]

    running.report_progress(job, 0.5, "Not yet")  # queued: nothing to show
    assert Job.objects.get(pk=job.pk).progress == 0.0

    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)
    other = running_elsewhere(project, alice)
    for fraction, shown in ((1.5, 1.0), (-0.5, 0.0), (0.25, 0.25)):
        running.report_progress(job, fraction, "Rendering " + "." * 300)
        job.refresh_from_db()
        assert (job.progress, job.progress_label) == (shown, ("Rendering " + "." * 300)[:200])
    assert Job.objects.get(pk=other.pk).progress == 0.0  # its own job only


# Failing


def test_a_failure_cancels_what_needs_it_directly_or_not_and_ends_the_run(project, alice, redis):
    not_a_video = add(project, "clip", "Clip", asset_id=str(upload(project).id))
    cut = add(project, "stitch", "Cut")
    final = add(project, "stitch", "Final")
    wire(not_a_video, "video", cut, "videos")
    wire(cut, "video", final, "videos")
    failing = plan_run(project, [final.id], user=alice).jobs[0]

    running.run_job(str(failing.id))

    rows = {job.node.title: job for job in Job.objects.select_related("node")}
    assert (rows["Clip"].status, rows["Clip"].error_code) == ("failed", "not_video")
    for title in ("Cut", "Final"):
        job = rows[title]
        assert (job.status, job.error_code, job.error_message) == (
            "canceled",
            "upstream_failed",
            "Not run: Clip failed.",
        )
        assert job.finished_at is not None
        node = Node.objects.get(pk=job.node_id)
        assert (node.status, node.error_message) == ("canceled", "Not run: Clip failed.")
    run = Run.objects.get()
    assert run.status == Run.Status.FAILED and run.finished_at is not None


def test_a_failure_ends_each_run_it_ends_even_when_a_later_run_it_touches_goes_on(project, alice, redis):
    """A later run that joined the failing job (its stitch waits on it) still has work of its own:
    it goes on, while the run of the failing job ends."""
    not_a_video = add(project, "clip", "Clip", asset_id=str(upload(project).id))
    cut = add(project, "stitch", "Cut")
    wire(not_a_video, "video", cut, "videos")
    other = add(project, "prompt", "Other", text="A lighthouse")
    first = plan_run(project, [not_a_video.id], user=alice)
    later = plan_run(project, [cut.id, other.id], user=alice).run

    running.run_job(str(first.jobs[0].id))

    first.run.refresh_from_db()
    later.refresh_from_db()
    assert (first.run.status, first.run.finished_at is not None) == ("failed", True)
    assert (later.status, later.finished_at) == ("running", None)
    assert (job_of(cut).status, job_of(other).status) == ("canceled", "queued")


def running_elsewhere(project, alice) -> Job:
    """A job of another node that a worker is executing meanwhile: a retry must leave it alone."""
    other = add(project, "prompt", "Elsewhere", text="Another line")
    job = plan_run(project, [other.id], user=alice).jobs[0]
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, state={"mine": True})
    return job


def untouched(job: Job) -> tuple:
    job.refresh_from_db()
    return job.status, job.error_code, job.state


@pytest.mark.django_db(transaction=True)  # a broken-off step checks its connection: not in a test's transaction
def test_a_passing_text_error_is_retried_and_leaves_other_jobs_alone(
    project, alice, simulated, redis, monkeypatch, django_capture_on_commit_callbacks
):
    def busy(provider, request):
        raise TransientProviderError("The text provider is busy (503).")

    monkeypatch.setattr(LocalTextProvider, "enhance", busy)
    prompt = add(project, "prompt", text="A lighthouse", enhance=True)
    with django_capture_on_commit_callbacks(execute=True):
        job = plan_run(project, [prompt.id], user=alice).jobs[0]
    other = running_elsewhere(project, alice)

    work("text", redis)

    job.refresh_from_db()
    assert (job.status, job.error_code, job.error_message) == (
        "queued",
        "provider_unavailable",
        "The text provider is busy (503).",
    )
    assert [(function, argument) for function, argument, _ in scheduled(redis, "text")] == [
        ("generation.tasks.run_job", str(job.id))
    ]
    assert untouched(other) == ("running", "", {"mine": True})


@pytest.mark.django_db(transaction=True)  # a broken-off step checks its connection: not in a test's transaction
def test_a_job_canceled_while_its_submit_failed_stays_canceled(
    project, alice, simulated, redis, monkeypatch, django_capture_on_commit_callbacks
):
    _, job = prompt_and_video(project, alice, django_capture_on_commit_callbacks)

    def canceled_then_unavailable(provider, request):
        endings.cancel_job(Job.objects.get(pk=job.pk), "Stopped by Alice.")
        raise TransientProviderError("The simulated provider is temporarily unavailable (503).")

    monkeypatch.setattr(SimulatedVideoProvider, "submit", canceled_then_unavailable)
    work("video", redis)

    job.refresh_from_db()
    assert (job.status, job.error_code, job.error_message) == ("canceled", "canceled", "Stopped by Alice.")
    assert Node.objects.get(pk=job.node_id).status == Node.Status.CANCELED


@pytest.mark.parametrize(
    ("script", "code", "reported"),
    [("blocked:violence", "safety_blocked", True), ("permanent:No lighthouses.", "provider_error", False)],
)
def test_only_a_safety_block_goes_to_the_moderation_queue(
    project, alice, simulated, script, code, reported, django_capture_on_commit_callbacks
):
    simulated(script)
    _, job = prompt_and_video(project, alice, django_capture_on_commit_callbacks)

    running.run_job(str(job.id))

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    reports = list(Report.objects.filter(job=job).values_list("source", "node_id", "reason"))
    assert reports == ([(Report.Source.SAFETY, job.node_id, job.error_message)] if reported else [])


def test_a_job_canceled_while_its_submit_was_refused_stays_canceled(
    project, alice, simulated, monkeypatch, django_capture_on_commit_callbacks
):
    _, job = prompt_and_video(project, alice, django_capture_on_commit_callbacks)

    def canceled_then_refused(provider, request):
        endings.cancel_job(Job.objects.get(pk=job.pk), "Stopped by Alice.")
        raise PermanentProviderError("No lighthouses.")

    monkeypatch.setattr(SimulatedVideoProvider, "submit", canceled_then_refused)
    running.run_job(str(job.id))

    job.refresh_from_db()
    assert (job.status, job.error_code, job.error_message) == ("canceled", "canceled", "Stopped by Alice.")


def test_a_failure_leaves_a_dependant_canceled_earlier_as_the_user_canceled_it(project, alice, redis):
    not_a_video = add(project, "clip", "Clip", asset_id=str(upload(project).id))
    cut = add(project, "stitch", "Cut")
    wire(not_a_video, "video", cut, "videos")
    failing, cutting = plan_run(project, [cut.id], user=alice).jobs
    endings.cancel_job(cutting, "Not this one.")

    running.run_job(str(failing.id))

    cutting.refresh_from_db()
    assert (cutting.status, cutting.error_code, cutting.error_message) == ("canceled", "canceled", "Not this one.")


# Several videos in flight, and polls that find a video not ready yet


def two_videos_waiting(project, alice, capture) -> tuple[Job, Job]:
    """Two shots of one project, each submitted and waiting on the provider (with an operation of its own)."""
    shots = [text_to_video(project, title) for title in ("Dawn", "Dusk")]
    with capture(execute=True):
        plan_run(project, [video.id for _, video in shots], user=alice)
        for prompt, _ in shots:
            running.run_job(str(job_of(prompt).id))
    for _, video in shots:
        running.run_job(str(job_of(video).id))
    return job_of(shots[0][1]), job_of(shots[1][1])


def test_two_videos_in_flight_each_step_touches_only_its_own_job(
    project, alice, simulated, clock, django_capture_on_commit_callbacks
):
    dawn, dusk = two_videos_waiting(project, alice, django_capture_on_commit_callbacks)
    assert dawn.provider_operation != dusk.provider_operation  # each stored its own, not the other's

    running.poll_job(str(dawn.id))

    dawn.refresh_from_db()
    dusk.refresh_from_db()
    assert dawn.status == Job.Status.SUCCEEDED and dawn.node.takes.count() == 1
    assert (dusk.status, dusk.node.takes.count(), dusk.lease_until) == ("running", 0, None)  # still waits its turn
    running.poll_job(str(dusk.id))
    dusk.refresh_from_db()
    assert dusk.status == Job.Status.SUCCEEDED


def test_a_poll_before_the_video_is_ready_waits_again_with_the_same_operation(
    project, alice, simulated, settings, clock, django_capture_on_commit_callbacks
):
    settings.SIMULATED_PROVIDER = {**settings.SIMULATED_PROVIDER, "latency": 60.0}
    _, job = prompt_and_video(project, alice, django_capture_on_commit_callbacks)
    running.run_job(str(job.id))
    job.refresh_from_db()
    operation = job.provider_operation

    clock.shift(timedelta(seconds=15))
    running.poll_job(str(job.id))

    job.refresh_from_db()
    assert (job.status, job.provider_operation, job.lease_until) == ("running", operation, None)
    assert (job.progress_label, job.error_code) == ("Rendering offline", "")
    assert "submitting" not in job.state and submit_count("simulated") == 1  # nothing submitted again
    clock.shift(timedelta(seconds=60))
    running.poll_job(str(job.id))
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and submit_count("simulated") == 1


def test_a_poll_of_a_canceled_job_does_nothing_and_says_so(
    project, alice, simulated, clock, caplog, django_capture_on_commit_callbacks
):
    _, job = prompt_and_video(project, alice, django_capture_on_commit_callbacks)
    running.run_job(str(job.id))
    endings.cancel_job(job, "Stopped by Alice.")

    with caplog.at_level("INFO", logger="generation.running"):
        running.poll_job(str(job.id))  # a poll RQ had scheduled before the cancel

    job.refresh_from_db()
    assert (job.status, job.node.takes.count(), job.node.status) == ("canceled", 0, "canceled")
    assert f"job {job.id} has no operation to poll right now; nothing to do" in caplog.messages
