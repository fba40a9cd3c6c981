"""Variations: a Video, Generate image or Music node asked for several takes makes them in one run, one
provider call (and job) each, priced as many times; the first take leads (the node's output, what
depends on it), the others arrive beside it on the card to pick from, and picking one is free. A
further take that fails, or a cancel, never pays twice nor loses what was made. The steps run in this
process, as workers run them."""

import hashlib
from decimal import Decimal

import pytest
from django.test import override_settings

from assets.models import Asset
from generation import endings, running
from generation.models import Job, Run
from generation.planning import outdated_node_ids, plan_run
from live.snapshot import node_state
from nodes.models import Node, Take
from providers.local_video import submit_count
from tests.api import Api, error_of
from tests.engine_helpers import asset_path
from tests.fakes.gemini import Accept, GeminiFake
from tests.graphs import add, text_to_video, wire

pytestmark = [pytest.mark.django_db(transaction=True)]


def run_all_here(run: Run) -> Run:
    """Every job of the run, in the order a worker would meet them: queued ones run, waiting operations
    polled, until none is left under way."""
    for _ in range(200):
        live = list(Job.objects.filter(run=run, status__in=Job.ACTIVE).order_by("created_at"))
        if not live:
            break
        for job in live:
            if job.status == Job.Status.QUEUED:
                running.run_job(str(job.id))
            elif job.status == Job.Status.RUNNING and job.provider_operation:
                running.poll_job(str(job.id))
    run.refresh_from_db()
    return run


def sha(asset_id) -> str:
    return hashlib.sha256(asset_path(asset_id).read_bytes()).hexdigest()


def keyframe(project, **params) -> Node:
    prompt = add(project, "prompt", "Keyframe prompt", text="A lighthouse on a cliff at dusk, wide shot")
    image = add(project, "generate_image", "Keyframe", **params)
    wire(prompt, "text", image, "prompt")
    return image


def test_the_estimate_counts_every_take_and_the_plan_says_how_many(project, alice, redis, settings):
    settings.PROVIDERS = {**settings.PROVIDERS, "video": "veo", "image": "gemini"}  # priced (a dry run asks nobody)
    one = keyframe(project)
    three = keyframe(project, variations=3)
    _, video = text_to_video(project, variations=2, duration_seconds=8)
    _, single = text_to_video(project, "Single", duration_seconds=8)

    plan = plan_run(project, dry_run=True)
    by_node = {planned.node_id: planned for planned in plan.nodes}

    assert by_node[str(three.id)].cost == 3 * by_node[str(one.id)].cost > 0
    assert by_node[str(video.id)].cost == 2 * by_node[str(single.id)].cost > 0
    assert [by_node[str(node.id)].as_dict()["variations"] for node in (one, three, video, single)] == [1, 3, 2, 1]
    assert plan.cost == sum((planned.cost for planned in plan.nodes), Decimal("0"))


def test_a_run_makes_one_take_per_variation_the_first_leads_and_the_others_wait_to_be_picked(project, alice, redis):
    image = keyframe(project, variations=3)
    video = add(project, "video", "Shot", duration_seconds=4)
    wire(Node.objects.get(project=project, type="prompt"), "text", video, "prompt")
    wire(image, "image", video, "first_frame")

    run = run_all_here(plan_run(project, [video.id], user=alice).run)

    assert run.status == Run.Status.SUCCEEDED
    jobs = list(Job.objects.filter(run=run, node=image).order_by("variation"))
    assert [(job.variation, job.status) for job in jobs] == [(n, Job.Status.SUCCEEDED) for n in (1, 2, 3)]
    takes = {take.job_id: take for take in Take.objects.filter(node=image)}
    assert set(takes) == {job.id for job in jobs}
    # Three pictures, each its own (the offline render says which take it is).
    assert len({sha(take.outputs["image"]) for take in takes.values()}) == 3
    image.refresh_from_db()
    lead = takes[jobs[0].id]
    assert image.selected_take_id == lead.id and image.output == lead.outputs
    # The video waited for the first take only, and was made from it: one video job, one video.
    video_job = Job.objects.get(run=run, node=video)
    prompt_job = Job.objects.get(run=run, node__type="prompt")
    assert sorted(video_job.depends_on) == sorted([str(prompt_job.id), str(jobs[0].id)])
    assert Job.objects.filter(run=run, node=video).count() == 1

    # The card lists the three side by side, with their pictures, the first in use.
    state = node_state(Node.objects.select_related("selected_take").get(pk=image.pk))
    shown = state["variations"]
    assert [(take["variation"], take["status"], take["selected"]) for take in shown] == [
        (1, "succeeded", True),
        (2, "succeeded", False),
        (3, "succeeded", False),
    ]
    assert [take["take_id"] for take in shown] == [str(takes[job.id].id) for job in jobs]
    assert all(take["media"]["kind"] == "image" and take["media"]["url"] for take in shown)


def test_picking_another_take_is_free_and_what_depends_on_it_follows(project, alice, redis):
    image = keyframe(project, variations=2)
    video = add(project, "video", "Shot", duration_seconds=4)
    wire(Node.objects.get(project=project, type="prompt"), "text", video, "prompt")
    wire(image, "image", video, "first_frame")
    run = run_all_here(plan_run(project, [video.id], user=alice).run)
    assert run.status == Run.Status.SUCCEEDED
    second = Take.objects.get(job_id=Job.objects.get(run=run, node=image, variation=2).id)
    jobs_before = Job.objects.count()

    node = Api(alice).post(f"/projects/{project.id}/nodes/{image.id}/takes/{second.id}/select").json()

    assert node["selected_take"]["id"] == str(second.id)
    assert node["output"] == second.outputs
    assert [take["selected"] for take in node["variations"]] == [False, True]
    assert Job.objects.count() == jobs_before  # nothing ran, nothing was paid
    assert outdated_node_ids(project) == {str(video.id)}  # the video follows the picked keyframe next run
    plan = plan_run(project, [video.id], dry_run=True)
    assert plan.action_of(image.id) == "cached" and plan.action_of(video.id) == "run"


def test_each_video_take_is_submitted_once_and_a_failed_further_take_leaves_the_first(project, alice, redis, settings):
    settings.PROVIDERS = {**settings.PROVIDERS, "video": "simulated"}
    # The first submit is accepted; the second is refused for good (a 400 from the provider).
    settings.SIMULATED_PROVIDER = {**settings.SIMULATED_PROVIDER, "latency": 0.0, "failures": ["ok", "permanent"]}
    _, video = text_to_video(project, variations=2, duration_seconds=4)

    run = run_all_here(plan_run(project, [video.id], user=alice).run)

    first, second = Job.objects.filter(run=run, node=video).order_by("variation")
    assert (first.status, second.status) == (Job.Status.SUCCEEDED, Job.Status.FAILED)
    assert submit_count("simulated") == 1  # the refused one never got an operation: asked once each
    assert (first.attempts, second.attempts) == (1, 1)
    assert second.cost_actual in (None, Decimal("0"))  # refused: not billed
    video.refresh_from_db()
    assert video.status == Node.Status.SUCCEEDED and video.takes.count() == 1
    assert video.output["video"] == Take.objects.get(job_id=first.id).outputs["video"]
    assert run.status == Run.Status.FAILED  # the run says one of its takes failed
    shown = node_state(Node.objects.select_related("selected_take").get(pk=video.pk))["variations"]
    assert [(take["status"], bool(take["error"]), take["take_id"] is None) for take in shown] == [
        ("succeeded", False, False),
        ("failed", True, True),
    ]


def test_canceling_the_nodes_run_cancels_its_further_takes_too(project, alice, redis, settings):
    settings.PROVIDERS = {**settings.PROVIDERS, "video": "simulated"}
    settings.SIMULATED_PROVIDER = {**settings.SIMULATED_PROVIDER, "latency": 60.0, "failures": []}
    prompt, video = text_to_video(project, variations=3, duration_seconds=4)
    run = plan_run(project, [video.id], user=alice).run
    running.run_job(str(Job.objects.get(run=run, node=prompt).id))
    lead, second, third = Job.objects.filter(run=run, node=video).order_by("variation")
    running.run_job(str(second.id))  # submitted: the provider bills it from now on

    assert endings.cancel_job(lead, "Canceled by alice.")

    statuses = dict(Job.objects.filter(run=run, node=video).values_list("variation", "status"))
    assert statuses == {1: Job.Status.CANCELED, 2: Job.Status.CANCELED, 3: Job.Status.CANCELED}
    second.refresh_from_db()
    assert second.cost_actual == second.cost_estimate > 0  # submitted before the cancel: counted as spent
    assert Job.objects.get(pk=third.pk).cost_actual in (None, Decimal("0"))  # never submitted
    run.refresh_from_db()
    assert run.status == Run.Status.CANCELED
    assert submit_count("simulated") == 1


def test_music_takes_are_different_pieces_of_the_same_length(project, alice, redis):
    prompt = add(project, "prompt", "Music prompt", text="Warm synth pads, slow build, hopeful")
    music = add(project, "music", "Soundtrack", seconds=6, variations=2)
    wire(prompt, "text", music, "prompt")

    run = run_all_here(plan_run(project, [music.id], user=alice).run)

    assert run.status == Run.Status.SUCCEEDED
    takes = list(Take.objects.filter(node=music).order_by("number"))
    assert len(takes) == 2
    pieces = [Asset.objects.get(pk=take.outputs["audio"]) for take in takes]
    assert [round(piece.duration_seconds) for piece in pieces] == [6, 6]
    assert sha(pieces[0].id) != sha(pieces[1].id)


def test_variations_outside_one_to_four_are_refused_naming_the_field(project, alice):
    image = keyframe(project)
    before = Node.objects.get(pk=image.pk).params

    response = Api(alice).patch(
        f"/projects/{project.id}/nodes/{image.id}", {"params": {"variations": 5}, "version": image.version}
    )

    assert response.status_code == 422
    assert "variations" in str(error_of(response))
    assert Node.objects.get(pk=image.pk).params == before


def test_veo_gets_one_request_per_take_and_a_lost_answer_costs_that_take_alone(project, alice, redis, tmp_path):
    """Through the real SDK to a loopback Veo: two takes are two predictLongRunning requests of the same
    body; the second's answer is lost after Veo started it, so that take needs attention and is never
    sent again, while the first is collected and leads."""
    _, video = text_to_video(project, variations=2, duration_seconds=8)
    with (
        GeminiFake(tmp_path) as gemini,
        override_settings(
            GEMINI_API_KEY="test-key",
            GEMINI_BASE_URL=gemini.url,
            PROVIDERS={"video": "veo", "text": "local", "faces": "local"},
            VEO_POLL_SECONDS=0.1,
            VEO_SUBMIT_TIMEOUT_SECONDS=1,
        ),
    ):
        gemini.submits.extend([Accept(), Accept(drop=True)])
        run = run_all_here(plan_run(project, [video.id], user=alice).run)
        first, second = gemini.submitted()

    assert first == second  # the same request, asked twice: one take each
    lead, further = Job.objects.filter(run=run, node=video).order_by("variation")
    assert (lead.status, further.status) == (Job.Status.SUCCEEDED, Job.Status.NEEDS_ATTENTION)
    assert gemini.operations_created == 2
    assert further.cost_actual == further.cost_estimate == lead.cost_actual > 0  # each counted once
    assert run.status == Run.Status.NEEDS_ATTENTION
    video.refresh_from_db()
    assert video.status == Node.Status.SUCCEEDED and video.takes.count() == 1
    assert Asset.objects.get(pk=video.output["video"]).provider == "veo"
    shown = node_state(Node.objects.select_related("selected_take").get(pk=video.pk))["variations"]
    assert [(take["status"], "may have started" in take["error"]) for take in shown] == [
        ("succeeded", False),
        ("needs_attention", True),
    ]


def test_takes_beyond_the_generation_slots_wait_their_turn_and_the_card_follows_the_first(
    project, alice, redis, settings
):
    settings.MAX_CONCURRENT_GENERATIONS = 2
    settings.PROVIDERS = {**settings.PROVIDERS, "video": "simulated"}
    settings.SIMULATED_PROVIDER = {**settings.SIMULATED_PROVIDER, "latency": 0.0, "failures": []}
    _, video = text_to_video(project, variations=3, duration_seconds=4)

    run = plan_run(project, [video.id], user=alice).run
    prompt_job = Job.objects.get(run=run, node__type="prompt")
    running.run_job(str(prompt_job.id))

    held = dict(Job.objects.filter(run=run, node=video).values_list("variation", "waits_for_slot"))
    assert held == {1: False, 2: False, 3: True}  # two slots: the first two takes start, the third waits
    state = Api(alice).get(f"/projects/{project.id}/nodes/{video.id}").json()
    assert state["job_id"] == str(Job.objects.get(run=run, node=video, variation=1).id)
    assert [take["label"].startswith("Waiting for a free generation slot") for take in state["variations"]] == [
        False,
        False,
        True,
    ]

    run = run_all_here(run)

    assert run.status == Run.Status.SUCCEEDED
    assert video.takes.count() == 3 and submit_count("simulated") == 3
