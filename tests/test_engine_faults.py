"""Parallelism, crashes, retries, failures and cancels, on real worker processes."""

import threading

import pytest
from django.conf import settings
from django.db import connection
from rq.job import Job as RQJob

from generation import endings
from generation.models import Job, Run
from generation.planning import plan_run
from nodes.graph import GraphInvalid
from nodes.models import Node
from providers.local_video import submit_count
from tests.graphs import add, stale_edge, text_to_video, wait_for_run, wire
from tests.workers import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_independent_branches_run_at_the_same_time_on_two_workers(project, alice, workers):
    _, first = text_to_video(project, "Left")
    _, second = text_to_video(project, "Right")
    stitch = add(project, "stitch", "Both")
    wire(first, "video", stitch, "videos")
    wire(second, "video", stitch, "videos")
    workers.start(2)

    run = wait_for_run(plan_run(project, [stitch.id], user=alice).run)

    assert run.status == Run.Status.SUCCEEDED, workers.logs()
    left, right = (Job.objects.get(run=run, node=node) for node in (first, second))
    # Each branch's render holds a worker; both were under way at once, on different workers.
    assert left.started_at < right.finished_at and right.started_at < left.finished_at
    assert left.worker != right.worker
    stitched = Job.objects.get(run=run, node=stitch)
    assert stitched.started_at > max(left.finished_at, right.finished_at)


def test_a_job_waiting_on_an_operation_survives_its_worker_being_killed(project, alice, workers):
    _, video = text_to_video(project, "Survivor")
    (doomed,) = workers.start(1, REELGRAPH_VIDEO_PROVIDER="simulated", REELGRAPH_SIMULATED_LATENCY="6")
    run = plan_run(project, [video.id], user=alice).run
    job = wait_for(
        lambda: Job.objects.filter(run=run, node=video).exclude(provider_operation="").first(),
        timeout=60,
        message="the video job to store its operation",
    )
    assert job.status == Job.Status.RUNNING

    doomed.kill()
    workers.start(1, REELGRAPH_VIDEO_PROVIDER="simulated", REELGRAPH_SIMULATED_LATENCY="6")

    assert wait_for_run(run, timeout=120).status == Run.Status.SUCCEEDED, workers.logs()
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert submit_count("simulated") == 1  # resumed the stored operation; never submitted again
    assert job.attempts == 1


def test_an_invalid_graph_reports_every_problem_per_node_and_enqueues_nothing(project, alice, redis):
    prompt = add(project, "prompt", "Empty prompt", text="")
    video = add(project, "video", "Too long", resolution="4k", duration_seconds=4)
    lonely = add(project, "extend", "Nothing to extend")
    first_frame = add(project, "prompt", "Not an image", text="words")
    wire(prompt, "text", video, "prompt")
    stale_edge(first_frame, "text", video, "first_frame")
    stitch = add(project, "stitch", "Final")
    wire(video, "video", stitch, "videos")
    wire(lonely, "video", stitch, "videos")

    with pytest.raises(GraphInvalid) as raised:
        plan_run(project, [stitch.id], user=alice)

    problems = raised.value.by_node()
    assert {message["code"] for message in problems[str(prompt.id)]} == {"required"}
    assert {(p["code"], p["port"] or p["field"]) for p in problems[str(video.id)]} == {
        ("veo_rule", "duration_seconds"),
        ("kind_mismatch", "first_frame"),
    }
    assert [(p["code"], p["port"]) for p in problems[str(lonely.id)]] == [("missing_input", "video")]
    assert str(stitch.id) not in problems
    assert not Run.objects.exists() and not Job.objects.exists()
    assert all(redis.llen(f"rq:queue:{name}") == 0 for name in settings.RQ_QUEUE_NAMES)
    assert set(Node.objects.values_list("status", flat=True)) == {"idle"}


def test_transient_failures_are_retried_until_the_job_succeeds(project, alice, workers):
    _, video = text_to_video(project, "Flaky")
    workers.start(1, REELGRAPH_VIDEO_PROVIDER="simulated", REELGRAPH_SIMULATED_LATENCY="0.5",
                  REELGRAPH_SIMULATED_FAILURES="transient,transient")  # fmt: skip

    run = wait_for_run(plan_run(project, [video.id], user=alice).run)

    assert run.status == Run.Status.SUCCEEDED, workers.logs()
    job = Job.objects.get(run=run, node=video)
    assert job.attempts == 3
    assert (job.error_code, job.error_message) == ("", "")  # the earlier attempts' error is not its outcome
    assert submit_count("simulated") == 1  # the two failed calls never got an operation


def test_a_permanent_failure_fails_at_once_and_cancels_what_depends_on_it(project, alice, workers):
    _, video = text_to_video(project, "Refused")
    extend = add(project, "extend", "Then", prompt_text="and then", mode="last_frame")
    wire(video, "video", extend, "video")
    stitch = add(project, "stitch", "Cut")
    wire(extend, "video", stitch, "videos")
    workers.start(1, REELGRAPH_VIDEO_PROVIDER="simulated",
                  REELGRAPH_SIMULATED_FAILURES="permanent:The prompt names a real person")  # fmt: skip

    run = wait_for_run(plan_run(project, [stitch.id], user=alice).run)

    assert run.status == Run.Status.FAILED
    failed = Job.objects.get(run=run, node=video)
    assert (failed.status, failed.attempts) == (Job.Status.FAILED, 1)
    assert failed.error_message == "The prompt names a real person"
    for dependant in (extend, stitch):
        job = Job.objects.get(run=run, node=dependant)
        assert job.status == Job.Status.CANCELED
        assert job.error_message == "Not run: Refused failed."
        dependant.refresh_from_db()
        assert dependant.status == Node.Status.CANCELED
    video.refresh_from_db()
    assert (video.status, video.error_message) == (Node.Status.FAILED, "The prompt names a real person")
    assert video.output == {} and video.selected_take is None  # a failure leaves the node's output alone


def test_two_identical_runs_requested_at_once_make_one_set_of_jobs(project, alice, redis):
    _, video = text_to_video(project, "Twice")
    plans, errors = [], []

    def request():
        try:
            plans.append(plan_run(project, [video.id], user=alice))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=request) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    assert plans[0].run.id == plans[1].run.id
    assert Job.objects.count() == 2 and Run.objects.count() == 1


def test_a_queued_run_is_canceled_with_its_jobs_and_leaves_the_queues(project, alice, redis):
    prompt, video = text_to_video(project, "Never")

    plan = plan_run(project, [video.id], user=alice)
    assert redis.llen("rq:queue:text") == 1
    endings.cancel_run(plan.run)

    plan.run.refresh_from_db()
    assert plan.run.status == Run.Status.CANCELED
    assert set(Job.objects.values_list("status", flat=True)) == {Job.Status.CANCELED}
    assert redis.llen("rq:queue:text") == 0
    for node in (prompt, video):
        node.refresh_from_db()
        assert node.status == Node.Status.CANCELED


def test_a_job_waiting_on_an_operation_can_be_canceled(project, alice, workers):
    _, video = text_to_video(project, "Stop me")
    workers.start(1, REELGRAPH_VIDEO_PROVIDER="simulated", REELGRAPH_SIMULATED_LATENCY="30")
    run = plan_run(project, [video.id], user=alice).run
    job = wait_for(
        lambda: Job.objects.filter(run=run, node=video).exclude(provider_operation="").first(),
        timeout=60,
        message="the video job to wait on its operation",
    )

    assert endings.cancel_job(job, "Canceled by alice.")

    run.refresh_from_db()
    job.refresh_from_db()
    assert (run.status, job.status, job.error_message) == (
        Run.Status.CANCELED,
        Job.Status.CANCELED,
        "Canceled by alice.",
    )
    assert not endings.cancel_job(job), "a finished job cannot be canceled twice"


def test_a_job_a_worker_is_executing_is_stopped_when_canceled(project, alice, workers, redis):
    _, video = text_to_video(project, "Long render", resolution="1080p", duration_seconds=8)
    workers.start(1)
    run = plan_run(project, [video.id], user=alice).run
    job = wait_for(
        lambda: Job.objects.filter(run=run, node=video, progress_label="Downloading").first(),
        timeout=60,
        message="the render to start",
    )

    assert endings.cancel_job(job, "Canceled by alice.")

    stopped = wait_for(
        lambda: RQJob.fetch(job.rq_job_id, connection=redis).get_status() == "stopped",
        timeout=30,
        message="RQ to stop the render",
    )
    assert stopped
    job.refresh_from_db()
    video.refresh_from_db()
    assert (job.status, video.status, video.selected_take) == (Job.Status.CANCELED, Node.Status.CANCELED, None)
