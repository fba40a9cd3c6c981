"""The planner's rules, read where a user or a worker meets them: the plan shown before paying (each
node's action, reason, price and take), the Run and Job rows a started run writes, what is put on the
queues, and what a refusal leaves behind (nothing). Jobs run in this process, as a worker would."""

import json
import time
import uuid
from datetime import timedelta
from decimal import Decimal

import django_rq
import pytest
from django.test import override_settings
from rq.job import Job as RQJob

from generation import endings, planning, queues, running
from generation.models import Job, Run
from generation.planning import RunConflict, plan_run
from generation.quotas import QuotaExceeded
from nodes.graph import GraphInvalid
from nodes.models import Node
from nodes.services import select_take, update_node
from tests.factories import ProjectFactory
from tests.faults import queues_unreachable
from tests.graphs import add, text_to_video, upload, upload_video, wire

pytestmark = pytest.mark.django_db

SIMULATED = {"video": "simulated", "text": "local", "faces": "local"}


def run_now(project, targets, user, **options) -> Run:
    """Start a run and do its jobs here, in plan order."""
    plan = plan_run(project, targets, user=user, **options)
    for job in plan.jobs:
        running.run_job(str(job.id))
    return plan.run


def rewrite(node: Node, text: str) -> Node:
    node.refresh_from_db()
    return update_node(node, node.version, {"params": {**node.params, "text": text}})


def summary(plan) -> list[tuple]:
    return [(p.node_id, p.action, p.reason, p.take.number if p.take else None) for p in plan.nodes]


def rows() -> tuple:
    return list(Run.objects.values_list("id", flat=True)), list(Job.objects.values_list("id", "status"))


# What is refused, and that a refusal writes nothing


def test_every_unknown_target_is_named_and_nothing_is_written(project, alice, redis):
    prompt = add(project, "prompt", text="A lighthouse")
    elsewhere = add(ProjectFactory(), "prompt", text="not yours")
    nowhere = uuid.uuid4()

    with pytest.raises(GraphInvalid) as raised:
        plan_run(project, [prompt.id, elsewhere.id, nowhere], user=alice)

    assert [(p.node_id, p.code, p.message) for p in raised.value.problems] == [
        (str(elsewhere.id), "unknown_node", "No such node in this project."),
        (str(nowhere), "unknown_node", "No such node in this project."),
    ]
    assert rows() == ([], [])


def test_an_invalid_node_upstream_refuses_the_run_but_an_unrelated_one_does_not(project, alice, redis):
    lone_video = add(project, "video", "Lone", duration_seconds=4)
    prompt, video = text_to_video(project)
    rewrite(prompt, "")  # now invalid: "Write a prompt."

    with pytest.raises(GraphInvalid) as raised:
        plan_run(project, [video.id], user=alice)

    assert [(p.node_id, p.code) for p in raised.value.problems] == [(str(prompt.id), "required")]
    assert rows() == ([], [])
    unrelated = add(project, "prompt", text="Fine")
    assert [p.node_id for p in plan_run(project, [unrelated.id], user=alice).nodes] == [str(unrelated.id)]
    assert lone_video.id not in Job.objects.values_list("node_id", flat=True)


def test_a_file_of_another_project_is_a_missing_file_of_the_node(project, alice, redis):
    foreign = upload(ProjectFactory())
    image = add(project, "image", "Photo", asset_id=str(foreign.id))

    with pytest.raises(GraphInvalid) as raised:
        plan_run(project, [image.id], user=alice, dry_run=True)

    assert [(p.node_id, p.code, p.field, p.message) for p in raised.value.problems] == [
        (str(image.id), "missing_asset", "asset_id", "The file this node uses is gone: upload it again.")
    ]


def test_a_file_of_the_project_is_found_and_its_content_is_part_of_the_key(project, alice, redis):
    photo, same_bytes, other = upload(project), upload(project), upload(project, "chelsea.png")
    nodes = [add(project, "image", f"Photo {n}", asset_id=str(a.id)) for n, a in enumerate((photo, same_bytes, other))]

    plan = plan_run(project, [node.id for node in nodes], user=alice, dry_run=True)

    keys = [planned.key for planned in plan.nodes]
    assert [p.action for p in plan.nodes] == ["run"] * 3
    assert len(set(keys)) == 3  # another file is another key (its id is in the params too)


def test_running_more_videos_than_allowed_at_once_is_not_refused(project, alice, redis, quota_limits):
    quota_limits.MAX_CONCURRENT_GENERATIONS = 1
    _, first = text_to_video(project, "First")
    _, second = text_to_video(project, "Second")

    plan = plan_run(project, [first.id, second.id], user=alice)

    # Two videos and their prompts; the videos wait for their prompts, then for a generation slot
    # (tests/test_quota_rules.py).
    assert sorted(plan.run.jobs.values_list("queue", "status")) == [
        ("text", "queued"),
        ("text", "queued"),
        ("video", "waiting"),
        ("video", "waiting"),
    ]


def test_the_days_spend_counts_each_video_at_its_estimate(project, alice, redis, quota_limits):
    quota_limits.DAILY_SPEND_LIMIT_USD = Decimal("3.19")
    _, video = text_to_video(project, duration_seconds=8, resolution="1080p")  # $3.20

    with pytest.raises(QuotaExceeded):
        plan_run(project, [video.id], user=alice)

    assert rows() == ([], [])


# The plan: what runs, what is cached, and why


def test_a_node_made_from_a_file_is_cached_after_its_run(project, alice, redis, tmp_path):
    """The key the plan computes from the file's content is the key its take was made with: a plan
    that computed it otherwise would run (and bill) the node again."""
    footage = add(project, "clip", "Footage", asset_id=str(upload_video(project, tmp_path).id))
    run_now(project, [footage.id], alice)

    plan = plan_run(project, [footage.id], user=alice, dry_run=True)

    footage.refresh_from_db()
    assert summary(plan) == [(str(footage.id), "cached", "unchanged", 1)]
    assert footage.selected_take.cache_key == footage.cache_key != ""


def test_a_node_fed_only_by_cached_nodes_is_cached_too(project, alice, redis, tmp_path):
    footage = add(project, "clip", "Footage", asset_id=str(upload_video(project, tmp_path).id))
    film = add(project, "stitch", "Film")
    wire(footage, "video", film, "videos")
    run_now(project, [film.id], alice)

    plan = plan_run(project, [film.id], user=alice, dry_run=True)

    assert summary(plan) == [(str(footage.id), "cached", "unchanged", 1), (str(film.id), "cached", "unchanged", 1)]
    assert plan.cost == Decimal("0")


def test_each_reason_a_node_runs(project, alice, redis):
    prompt, video = text_to_video(project)
    assert summary(plan_run(project, [video.id], user=alice, dry_run=True)) == [
        (str(prompt.id), "run", "never run", None),
        (str(video.id), "run", "an input changes", None),
    ]
    run_now(project, [prompt.id], alice)
    rewrite(prompt, "A storm")

    assert summary(plan_run(project, [prompt.id], user=alice, dry_run=True)) == [
        (str(prompt.id), "run", "changed", None)
    ]
    unchanged = plan_run(project, [video.id], user=alice, dry_run=True)
    assert (unchanged.action_of(prompt.id), unchanged.action_of(str(video.id))) == ("run", "run")
    run_now(project, [prompt.id], alice)
    one_cached = plan_run(project, [video.id], user=alice, dry_run=True)
    assert (one_cached.action_of(prompt.id), one_cached.action_of(video.id)) == ("cached", "run")
    run_now(project, [prompt.id], alice)
    assert summary(plan_run(project, [prompt.id], user=alice, dry_run=True, force=True)) == [
        (str(prompt.id), "run", "run again on request", None)
    ]


def test_going_back_uses_the_take_of_those_settings_and_the_selected_one_is_unchanged(project, alice, redis):
    prompt = add(project, "prompt", text="A lighthouse")
    run_now(project, [prompt.id], alice)
    run_now(project, [prompt.id], alice, force=True)  # take 2: the same settings again
    rewrite(prompt, "A storm")
    run_now(project, [prompt.id], alice)  # take 3
    prompt.refresh_from_db()
    assert prompt.selected_take.number == 3
    assert summary(plan_run(project, [prompt.id], user=alice, dry_run=True)) == [
        (str(prompt.id), "cached", "unchanged", 3)
    ]

    rewrite(prompt, "A lighthouse")

    assert summary(plan_run(project, [prompt.id], user=alice, dry_run=True)) == [
        (str(prompt.id), "cached", "cached (take 2)", 2)  # the newest take of those settings
    ]
    prompt.refresh_from_db()
    select_take(prompt, prompt.takes.get(number=1))
    assert summary(plan_run(project, [prompt.id], user=alice, dry_run=True)) == [
        (str(prompt.id), "cached", "unchanged", 1)  # the selected one wins over a newer twin
    ]


def test_a_run_of_cached_nodes_selects_their_takes_and_ends_at_once(project, alice, redis):
    prompt = add(project, "prompt", text="A lighthouse")
    first = run_now(project, [prompt.id], alice)
    rewrite(prompt, "A storm")
    run_now(project, [prompt.id], alice)
    rewrite(prompt, "A lighthouse")
    prompt.refresh_from_db()
    assert (prompt.selected_take.number, prompt.output) == (2, {"text": "A storm"})

    run = plan_run(project, [prompt.id], user=alice).run

    prompt.refresh_from_db()
    take = prompt.takes.get(number=1)
    assert (prompt.selected_take, prompt.output, prompt.cache_key) == (take, {"text": "A lighthouse"}, take.cache_key)
    assert (prompt.status, prompt.error_message) == (Node.Status.SUCCEEDED, "")
    assert (run.status, run.jobs.count(), run.cost_estimate) == (Run.Status.SUCCEEDED, 0, Decimal("0"))
    assert run.finished_at is not None and run.id != first.id
    assert run.plan == [
        {
            "node": str(prompt.id),
            "action": "cached",
            "reason": "cached (take 1)",
            "cost": "0",
            "job": None,
            "take": 1,
            "variations": 1,
        }
    ]


# Costs shown before paying


def test_the_plan_prices_each_video_and_their_sum(project, alice, redis):
    _, short = text_to_video(project, "Short", duration_seconds=4, resolution="720p")
    _, long = text_to_video(project, "Long", duration_seconds=8, resolution="1080p")

    with override_settings(PROVIDERS=SIMULATED):
        plan = plan_run(project, [short.id, long.id], user=alice, dry_run=True)

    costs = {p.node_id: p.cost for p in plan.nodes}
    assert (costs[str(short.id)], costs[str(long.id)]) == (Decimal("1.6000"), Decimal("3.2000"))
    assert plan.cost == Decimal("4.8000")
    assert {p.cost for p in plan.nodes if p.node_id not in (str(short.id), str(long.id))} == {Decimal("0")}
    assert plan.dry_run and plan.run is None and plan.jobs == []
    assert rows() == ([], [])


def test_a_cached_node_costs_nothing_in_the_plan(project, alice, redis):
    prompt = add(project, "prompt", text="A lighthouse", enhance=True)
    run_now(project, [prompt.id], alice)

    plan = plan_run(project, [prompt.id], user=alice, dry_run=True)

    assert [(p.action, p.cost) for p in plan.nodes] == [("cached", Decimal("0"))]
    assert plan.cost == Decimal("0")


# The rows a started run writes, and its queues


def test_a_started_run_writes_its_plan_jobs_and_dependencies(project, alice, redis, django_capture_on_commit_callbacks):
    prompt, video = text_to_video(project, duration_seconds=8, resolution="1080p")

    with override_settings(PROVIDERS=SIMULATED), django_capture_on_commit_callbacks(execute=True):
        plan = plan_run(project, [video.id], user=alice)

    run = Run.objects.get()
    first, then = Job.objects.get(node=prompt), Job.objects.get(node=video)
    assert (run.project, run.created_by, run.targets, run.force) == (project, alice, [str(video.id)], False)
    assert (run.status, run.finished_at, run.cost_estimate) == (Run.Status.RUNNING, None, Decimal("3.2"))
    assert run.plan == [
        {
            "node": str(prompt.id),
            "action": "run",
            "reason": "never run",
            "cost": "0",
            "job": str(first.id),
            "take": None,
            "variations": 1,
        },
        {
            "node": str(video.id),
            "action": "run",
            "reason": "an input changes",
            "cost": "3.2000",
            "job": str(then.id),
            "take": None,
            "variations": 1,
        },
    ]
    assert (first.status, first.depends_on, first.queue, first.cost_estimate) == ("queued", [], "text", 0)
    assert (then.status, then.depends_on, then.queue, then.cost_estimate) == (
        "waiting",
        [str(first.id)],
        "video",
        Decimal("3.2"),
    )
    assert then.state == {"wiring": {"prompt": [{"node": str(prompt.id), "port": "text"}]}}
    assert first.state == {"wiring": {}}
    assert then.params["duration_seconds"] == 8 and then.params["resolution"] == "1080p"
    assert first.params["text"] == prompt.params["text"]
    assert [first.plan_key, then.plan_key] == [p.key for p in plan.nodes] and all(p.key for p in plan.nodes)
    assert (first.run, first.created_by, first.project) == (run, alice, project)
    assert plan.jobs == [first, then] and plan.run == run
    assert set(Node.objects.values_list("status", flat=True)) == {Node.Status.QUEUED}
    assert (redis.llen("rq:queue:text"), redis.llen("rq:queue:video")) == (1, 0)  # the video waits


def test_a_queued_job_goes_to_rq_under_its_own_id_with_its_retries(
    project, alice, redis, settings, django_capture_on_commit_callbacks
):
    settings.JOB_TIMEOUT_SECONDS = 77  # not the queues' default of 900
    prompt = add(project, "prompt", text="A lighthouse")

    with django_capture_on_commit_callbacks(execute=True):
        job = plan_run(project, [prompt.id], user=alice).jobs[0]

    queued = RQJob.fetch(str(job.id), connection=redis)
    assert redis.lrange("rq:queue:text", 0, -1) == [str(job.id).encode()]
    assert (queued.func_name, queued.args) == ("generation.tasks.run_job", (str(job.id),))
    assert queued.timeout == 77
    assert (queued.retries_left, queued.retry_intervals) == (
        len(settings.RETRY_INTERVALS),
        list(settings.RETRY_INTERVALS),
    )
    assert (queued.result_ttl, queued.failure_ttl) == (3600, 7 * 24 * 3600)


def test_nothing_is_queued_before_the_run_commits(project, alice, redis, django_capture_on_commit_callbacks):
    prompt = add(project, "prompt", text="A lighthouse")

    with django_capture_on_commit_callbacks(execute=True):
        plan_run(project, [prompt.id], user=alice)
        assert redis.llen("rq:queue:text") == 0

    assert redis.llen("rq:queue:text") == 1


def test_forcing_re_runs_the_targets_only(project, alice, redis):
    prompt, _ = text_to_video(project)
    run_now(project, [prompt.id], alice)

    plan = plan_run(project, [prompt.id], user=alice, force=True)

    assert plan.run.force is True and plan.run.targets == [str(prompt.id)]
    assert [(p.action, p.reason) for p in plan.nodes] == [("run", "run again on request")]


# A node already running


def test_the_same_run_again_while_it_runs_is_that_run(project, alice, redis):
    prompt = add(project, "prompt", text="A lighthouse")
    first = plan_run(project, [prompt.id], user=alice)

    again = plan_run(project, [prompt.id], user=alice)

    assert again.run == first.run and again.jobs == []
    job = first.jobs[0]
    assert summary(again) == [(str(prompt.id), "joined", "already running", None)]
    assert again.nodes[0].job_id == str(job.id)
    assert (Run.objects.count(), Job.objects.count()) == (1, 1)


def test_a_run_needing_a_node_under_way_waits_for_its_job(project, alice, redis, django_capture_on_commit_callbacks):
    prompt, video = text_to_video(project)
    prompt_job = plan_run(project, [prompt.id], user=alice).jobs[0]

    with django_capture_on_commit_callbacks(execute=True):
        plan = plan_run(project, [video.id], user=alice)

    assert [(p.action, p.job_id) for p in plan.nodes] == [("joined", str(prompt_job.id)), ("run", str(plan.jobs[0].id))]
    video_job = Job.objects.get(node=video)
    assert (video_job.status, video_job.depends_on) == (Job.Status.WAITING, [str(prompt_job.id)])
    assert video_job.run == plan.run != prompt_job.run
    assert redis.llen("rq:queue:video") == 0


def test_a_conflict_names_the_node_and_writes_nothing(project, alice, redis):
    prompt, video = text_to_video(project)
    plan_run(project, [prompt.id], user=alice)
    rewrite(prompt, "Changed while running")
    before = rows()

    with pytest.raises(RunConflict) as raised:
        plan_run(project, [video.id], user=alice)

    assert raised.value.node == prompt and raised.value.job == Job.objects.get()
    assert str(prompt) in str(raised.value)
    conflict = (raised.value.status, raised.value.code, raised.value.details)  # what the API answers
    assert conflict == (409, "run_conflict", {"node": str(prompt.id), "job": str(Job.objects.get().id)})
    assert rows() == before


def test_a_node_run_again_after_a_failure_is_queued_without_its_old_error(project, alice, redis):
    prompt = add(project, "prompt", text="A lighthouse")
    (job,) = plan_run(project, [prompt.id], user=alice).jobs
    endings.fail(job, "provider_rejected", "The provider refused it.")
    prompt.refresh_from_db()
    assert (prompt.status, prompt.error_message) == (Node.Status.FAILED, "The provider refused it.")

    plan_run(project, [prompt.id], user=alice)

    prompt.refresh_from_db()
    assert (prompt.status, prompt.error_message) == (Node.Status.QUEUED, "")  # the card no longer says it failed


# Canceling


def test_canceling_a_run_cancels_each_unfinished_job_and_empties_the_queue(
    project, alice, redis, django_capture_on_commit_callbacks
):
    _, video = text_to_video(project)
    done = add(project, "prompt", "Done", text="Already made")
    other = add(project, "prompt", "Other", text="Another line")
    run_now(project, [done.id], alice)
    with django_capture_on_commit_callbacks(execute=True):
        run = plan_run(project, [video.id], user=alice).run
        other_run = plan_run(project, [other.id], user=alice).run

    with django_capture_on_commit_callbacks(execute=True):
        assert endings.cancel_run(run, "Stopped by Alice.") == 2  # the video with its prompt
        assert endings.cancel_run(other_run) == 1

    jobs = {job.node.title: job for job in Job.objects.exclude(node=done)}
    assert {title: job.status for title, job in jobs.items()} == {
        "Shot prompt": "canceled",
        "Shot": "canceled",
        "Other": "canceled",
    }
    assert jobs["Shot prompt"].error_message == "Stopped by Alice."  # the video's says so too, or why it never ran
    assert jobs["Other"].error_message == "Canceled."
    assert redis.llen("rq:queue:text") == 0
    assert endings.cancel_run(run) == 0


def test_canceling_a_job_says_whether_it_was_still_running(project, alice, redis):
    prompt = add(project, "prompt", text="A lighthouse")
    job = plan_run(project, [prompt.id], user=alice).jobs[0]

    assert endings.cancel_job(job) is True
    job.refresh_from_db()
    assert (job.status, job.error_message) == ("canceled", "Canceled.")
    assert endings.cancel_job(job) is False


def test_a_poll_is_put_on_the_jobs_queue(project, alice, redis, settings, django_capture_on_commit_callbacks):
    settings.JOB_TIMEOUT_SECONDS = 77  # not the queues' default of 900
    _, video = text_to_video(project)
    job = plan_run(project, [video.id], user=alice).jobs[1]

    with django_capture_on_commit_callbacks(execute=True):
        queues.poll_now(job)
        before = time.time()
        queues.schedule_poll(job, 30)
        after = time.time()

    now = RQJob.fetch(redis.lrange("rq:queue:video", 0, -1)[0].decode(), connection=redis)
    assert (now.func_name, now.args, now.timeout, now.result_ttl) == (
        "generation.tasks.poll_job",
        (str(job.id),),
        77,
        600,
    )
    (later_id, at), *_ = redis.zrange("rq:scheduled:video", 0, -1, withscores=True)
    later = RQJob.fetch(later_id.decode(), connection=redis)
    assert (later.func_name, later.args, later.timeout, later.result_ttl) == (
        "generation.tasks.poll_job",
        (str(job.id),),
        77,
        600,
    )
    assert int(before) + 30 <= at <= after + 30  # when it is due, not how long anything took


# Outdated: a card whose take a run would not use as it is


def test_only_nodes_with_a_take_can_be_outdated(project, alice, redis):
    prompt, _ = text_to_video(project)
    assert planning.outdated_node_ids(project) == set()
    run_now(project, [prompt.id], alice)
    assert planning.outdated_node_ids(project) == set()

    rewrite(prompt, "A storm")

    assert planning.outdated_node_ids(project) == {str(prompt.id)}  # the video has no take to be outdated


def test_a_change_upstream_outdates_what_follows(project, alice, redis):
    first = add(project, "prompt", "First", text="A lighthouse")
    second = add(project, "prompt", "Second", text="Seen from the sea")
    run_now(project, [first.id, second.id], alice)
    assert planning.outdated_node_ids(project) == set()

    rewrite(first, "A storm")

    assert planning.outdated_node_ids(project) == {str(first.id)}  # not wired: the second is as it was


def test_an_invalid_node_and_what_it_feeds_are_outdated(project, alice, redis):
    prompt, _ = text_to_video(project)
    other = add(project, "prompt", "Other", text="Fine")
    run_now(project, [prompt.id, other.id], alice)

    rewrite(prompt, "")  # invalid now

    assert planning.outdated_node_ids(project) == {str(prompt.id)}
    assert {p.node_id for p in plan_run(project, [other.id], user=alice, dry_run=True).nodes} == {str(other.id)}


def test_going_back_to_earlier_settings_is_outdated_until_run(project, alice, redis):
    prompt = add(project, "prompt", text="A lighthouse")
    run_now(project, [prompt.id], alice)
    rewrite(prompt, "A storm")
    run_now(project, [prompt.id], alice)

    rewrite(prompt, "A lighthouse")  # take 1 matches, but take 2 is the one shown

    assert planning.outdated_node_ids(project) == {str(prompt.id)}
    run_now(project, [prompt.id], alice)  # selects take 1, pays nothing
    assert planning.outdated_node_ids(project) == set()


def test_a_node_running_with_other_settings_is_not_a_conflict_for_its_card(project, alice, redis):
    prompt = add(project, "prompt", text="A lighthouse")
    run_now(project, [prompt.id], alice)
    rewrite(prompt, "A storm")
    plan_run(project, [prompt.id], user=alice)  # under way with "A storm"

    rewrite(prompt, "A lighthouse")  # back to what its take shows

    assert planning.outdated_node_ids(project) == set()  # no RunConflict: the take matches
    rewrite(prompt, "A calm sea")
    assert planning.outdated_node_ids(project) == {str(prompt.id)}


def test_a_job_waiting_for_its_retry_is_taken_off_the_schedule_when_canceled(
    project, alice, redis, django_capture_on_commit_callbacks
):
    prompt = add(project, "prompt", text="A lighthouse")
    job = plan_run(project, [prompt.id], user=alice).jobs[0]
    with django_capture_on_commit_callbacks(execute=True):  # as RQ leaves a job between two attempts
        django_rq.get_queue("text").enqueue_in(
            timedelta(seconds=60), "generation.tasks.run_job", str(job.id), job_id=str(job.id)
        )
    assert RQJob.fetch(str(job.id), connection=redis).get_status() == "scheduled"

    with django_capture_on_commit_callbacks(execute=True):
        assert endings.cancel_job(job) is True

    assert RQJob.fetch(str(job.id), connection=redis).get_status() == "canceled"
    assert redis.zrange("rq:scheduled:text", 0, -1) == []


# Stopping a job a worker is executing: RQ records the worker on the job, and the stop is a command
# published on that worker's channel (what `rq.command.send_stop_job_command` does; a real worker
# receiving it is `tests/test_engine_faults.py`).


def executing(job: Job, redis, rq_id: str, worker: str | None) -> None:
    """The job as a worker executing it leaves it in the database and in RQ."""
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, rq_job_id=rq_id)
    rq_job = RQJob.create("generation.tasks.run_job", args=(str(job.id),), id=rq_id, connection=redis, origin=job.queue)
    rq_job.worker_name = worker
    rq_job.set_status("started", pipeline=None)
    rq_job.save()


def commands(pubsub) -> list[tuple[str, dict]]:
    """What was published on the channels the test listens to (read until a second passes in silence)."""
    received = []
    while (message := pubsub.get_message(timeout=1)) is not None:
        if message["type"] in ("message", "pmessage"):
            received.append((message["channel"].decode(), json.loads(message["data"])))
    return received


def test_canceling_a_job_a_worker_is_executing_sends_that_worker_the_stop(
    project, alice, redis, django_capture_on_commit_callbacks
):
    prompt = add(project, "prompt", text="A lighthouse")
    job = plan_run(project, [prompt.id], user=alice).jobs[0]
    executing(job, redis, str(job.id), "w-7")
    pubsub = redis.pubsub()
    pubsub.subscribe("rq:pubsub:w-7", "rq:pubsub:w-8")

    with django_capture_on_commit_callbacks(execute=True):
        assert endings.cancel_job(job) is True

    assert commands(pubsub) == [("rq:pubsub:w-7", {"command": "stop-job", "job_id": str(job.id)})]
    assert RQJob.fetch(str(job.id), connection=redis).get_status() == "started"  # the worker ends it, not us


def test_a_job_executing_under_the_id_its_worker_recorded_is_stopped_there(
    project, alice, redis, django_capture_on_commit_callbacks
):
    prompt = add(project, "prompt", text="A lighthouse")
    job = plan_run(project, [prompt.id], user=alice).jobs[0]
    executing(job, redis, "retry-of-" + str(job.id), "w-8")
    assert not redis.exists(f"rq:job:{job.id}")  # only the id the worker recorded is in RQ
    pubsub = redis.pubsub()
    pubsub.subscribe("rq:pubsub:w-8")

    with django_capture_on_commit_callbacks(execute=True):
        assert endings.cancel_job(job) is True

    assert commands(pubsub) == [("rq:pubsub:w-8", {"command": "stop-job", "job_id": "retry-of-" + str(job.id)})]


def test_a_job_that_ended_before_the_stop_is_logged_not_raised(
    project, alice, redis, caplog, django_capture_on_commit_callbacks
):
    prompt = add(project, "prompt", text="A lighthouse")
    job = plan_run(project, [prompt.id], user=alice).jobs[0]
    executing(job, redis, str(job.id), None)  # "started" with no worker on it: it is ending
    pubsub = redis.pubsub()
    pubsub.psubscribe("rq:pubsub:*")

    with caplog.at_level("INFO", logger="generation.planning"), django_capture_on_commit_callbacks(execute=True):
        assert endings.cancel_job(job) is True

    assert commands(pubsub) == []
    assert f"job {job.id} finished before it could be stopped" in caplog.messages


def test_a_run_planned_while_redis_is_away_is_left_to_the_reconciler_and_says_so(
    project, alice, redis, caplog, monkeypatch, django_capture_on_commit_callbacks
):
    _, video = text_to_video(project)
    queues_unreachable(monkeypatch)

    with caplog.at_level("WARNING", logger="generation.queues"), django_capture_on_commit_callbacks(execute=True):
        run = plan_run(project, [video.id], user=alice).run  # the request succeeds: its rows are safe
    monkeypatch.undo()

    assert sorted(Job.objects.filter(run=run).values_list("status", flat=True)) == ["queued", "waiting"]
    assert redis.keys("rq:*") == []  # nothing reached a queue
    (warning,) = [record for record in caplog.records if record.name == "generation.queues"]
    assert warning.getMessage().startswith("1 job(s) wait for the reconciler: Redis is unavailable (")


# Ending a job without a result


def test_a_failed_job_ends_itself_and_what_needs_it_but_nothing_else(project, alice, redis):
    not_a_video = add(project, "clip", "Clip", asset_id=str(upload(project).id))
    film = add(project, "stitch", "Film")
    wire(not_a_video, "video", film, "videos")
    other = add(project, "prompt", "Other", text="A lighthouse")
    failing, stitching = plan_run(project, [film.id], user=alice).jobs
    elsewhere = plan_run(project, [other.id], user=alice).jobs[0]

    running.run_job(str(failing.id))

    for job in (failing, stitching, elsewhere):
        job.refresh_from_db()
    assert (failing.status, failing.error_code, failing.lease_until) == ("failed", "not_video", None)
    assert failing.finished_at is not None and failing.run.status == Run.Status.FAILED
    assert (stitching.status, stitching.error_message) == ("canceled", "Not run: Clip failed.")
    assert (elsewhere.status, elsewhere.error_code, elsewhere.finished_at) == ("queued", "", None)


@pytest.mark.parametrize(("submitting", "who"), [({}, "The provider"), ({"submitting": {"provider": "Veo"}}, "Veo")])
def test_a_submit_of_unknown_outcome_asks_the_user_and_counts_its_cost(project, alice, redis, caplog, submitting, who):
    _, video = text_to_video(project)
    film = add(project, "stitch", "Film")
    wire(video, "video", film, "videos")
    with override_settings(PROVIDERS=SIMULATED):
        jobs = {job.node_id: job for job in plan_run(project, [film.id], user=alice).jobs}
    job = jobs[video.id]
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, state=submitting)
    job.refresh_from_db()

    with caplog.at_level("WARNING", logger="generation.endings"):
        endings.needs_attention(job, "its worker stopped while submitting")

    job.refresh_from_db()
    assert (job.status, job.error_code) == ("needs_attention", "outcome_unknown")
    assert job.error_message == (
        f"{who} may have started this video; running it again may charge again (about $1.60). "
        "Its worker stopped while submitting. Run the node again to submit it anew, or leave it."
    )
    assert job.cost_actual == job.cost_estimate == Decimal("1.6000")
    assert Job.objects.get(pk=jobs[film.id].pk).error_message == "Not run: Shot needs attention."
    assert f"job {job.id} needs attention: its worker stopped while submitting" in caplog.messages
