"""Runs of whole graphs on real RQ worker processes, real Redis and PostgreSQL, with the offline providers."""

import json
import time

import pytest
from asgiref.sync import async_to_sync, sync_to_async

from assets import media
from assets.models import Asset
from generation import running
from generation.models import Job, Run
from generation.planning import plan_run
from nodes.models import Node, Take
from providers import video_provider
from providers.local_video import submit_count
from tests.engine_helpers import asset_path
from tests.graphs import film, run_here, text_to_video, wait_for_run
from tests.websockets import headers_for, next_event, project_socket

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def collect_run_events(project, user, start_run):
    """Connect as `user`, start the run, and return every event up to and including run.finished."""
    headers = headers_for(user)

    async def scenario():
        socket = project_socket(project.id, headers)
        assert (await socket.connect())[0]
        assert (await socket.receive_json_from())["type"] == "graph.snapshot"
        plan = await sync_to_async(start_run)()
        received = []
        while not received or received[-1]["type"] != "run.finished":
            received.append(await next_event(socket, timeout=180))
        await socket.disconnect()
        return plan, received

    return async_to_sync(scenario)()


def test_a_film_graph_runs_from_one_request_into_one_playable_video(project, alice, workers):
    nodes = film(project)
    workers.start(2)

    plan, received = collect_run_events(project, alice, lambda: plan_run(project, [nodes["stitch"].id], user=alice))

    run = wait_for_run(plan.run)
    assert run.status == Run.Status.SUCCEEDED, workers.logs()
    assert {p["action"] for p in run.plan} == {"run"} and len(run.plan) == 5
    for node in nodes.values():
        node.refresh_from_db()
        assert node.status == Node.Status.SUCCEEDED
        assert node.selected_take.number == 1

    clip = media.probe(asset_path(nodes["video"].output["video"]))
    extended = media.probe(asset_path(nodes["extend"].output["video"]))
    new_part = media.probe(asset_path(nodes["extend"].output["clip"]))
    final_path = asset_path(nodes["stitch"].output["video"])
    final = media.probe(final_path)
    frame = 1 / media.FPS
    assert final.video_codec == "h264" and final.audio_codec == "aac"
    assert final.duration == pytest.approx(clip.duration + new_part.duration, abs=frame)
    assert (clip.duration, new_part.duration) == (pytest.approx(8, abs=frame), pytest.approx(7, abs=frame))
    assert extended.duration == pytest.approx(15, abs=frame)
    media.ffmpeg("-v", "error", "-i", str(final_path), "-f", "null", "-")  # decodes every frame without an error

    assert nodes["image"].output["character"], "the astronaut's face became a character"
    assert nodes["prompt"].output["text"].startswith("An astronaut waves at the camera.")
    assert "Camera:" in nodes["prompt"].output["text"]
    assert Asset.objects.get(pk=nodes["video"].output["video"]).provider == "local"
    # Every output says which provider and model made it.
    outputs = Asset.objects.filter(project=project, origin=Asset.Origin.OUTPUT)
    assert outputs.count() >= 8 and not outputs.filter(provider="").exists() and not outputs.filter(model="").exists()
    makers = {take.node.title: (take.provider, take.model) for take in Take.objects.filter(node__project=project)}
    assert makers == {
        "Astronaut photo": ("local", "sface-2021dec-int8bq"),
        "Opening line": ("local", "reelgraph-rules-v1"),
        "Opening shot": ("local", "reelgraph-offline-render"),
        "Continue": ("local", "reelgraph-offline-render"),
        "Final cut": ("ffmpeg", "stitch-cut"),
    }
    poster = Asset.objects.get(pk=Asset.objects.get(pk=nodes["video"].output["video"]).meta["poster"])
    assert (poster.kind, poster.width, poster.height) == ("image", 1280, 720)

    # The live channel told the whole story, in order, ending with the run's result.
    assert received[0]["type"] == "run.planned"
    assert received[-1] == {"type": "run.finished", "run": received[-1]["run"]}
    assert received[-1]["run"]["status"] == "succeeded"
    for node in nodes.values():
        mine = [e for e in received if _node_of(e) == str(node.id)]
        statuses = [e["node"]["status"] for e in mine if e["type"] == "node.status"]
        assert statuses == ["queued", "running", "succeeded"], (node.title, statuses)
        kinds = [e["type"] for e in mine]
        running_at = next(
            i for i, e in enumerate(mine) if e["type"] == "node.status" and e["node"]["status"] == "running"
        )
        assert "node.progress" in kinds[running_at:], node.title
        assert kinds.index("node.output") > running_at
    order = [_node_of(e) for e in received if e["type"] == "node.status" and e["node"]["status"] == "succeeded"]
    assert (
        order.index(str(nodes["video"].id))
        < order.index(str(nodes["extend"].id))
        < order.index(str(nodes["stitch"].id))
    )


def _node_of(event) -> str | None:
    if "node" in event:
        return event["node"]["id"]
    return event.get("node_id")


def test_an_unchanged_graph_is_cached_and_a_change_reruns_only_what_depends_on_it(project, alice, workers):
    nodes = film(project)
    workers.start(2)
    first = wait_for_run(plan_run(project, [nodes["stitch"].id], user=alice).run)
    assert first.status == Run.Status.SUCCEEDED, workers.logs()
    submits, jobs, takes = submit_count("local"), Job.objects.count(), Take.objects.count()

    again = plan_run(project, [nodes["stitch"].id], user=alice)

    assert {planned.action for planned in again.nodes} == {"cached"}
    assert again.run.status == Run.Status.SUCCEEDED
    assert (submit_count("local"), Job.objects.count(), Take.objects.count()) == (submits, jobs, takes)

    nodes["video"].params = {**nodes["video"].params, "negative_prompt": "no text on screen"}
    nodes["video"].save()
    changed = plan_run(project, [nodes["stitch"].id], user=alice)

    actions = {planned.node_id: planned.action for planned in changed.nodes}
    assert actions == {
        str(nodes["image"].id): "cached",
        str(nodes["prompt"].id): "cached",
        str(nodes["video"].id): "run",
        str(nodes["extend"].id): "run",
        str(nodes["stitch"].id): "run",
    }
    assert wait_for_run(changed.run).status == Run.Status.SUCCEEDED, workers.logs()
    rerun = set(Job.objects.filter(run=changed.run).values_list("node__title", flat=True))
    assert rerun == {"Opening shot", "Continue", "Final cut"}
    assert submit_count("local") == submits + 2  # the video and its extension, nothing else
    for name, takes_now in (("image", 1), ("prompt", 1), ("video", 2), ("extend", 2), ("stitch", 2)):
        assert nodes[name].takes.count() == takes_now, name


def test_a_poll_comes_when_the_provider_expects_the_video_not_an_interval_later(project, alice, redis, settings):
    settings.PROVIDERS = {**settings.PROVIDERS, "video": "simulated"}
    settings.SIMULATED_PROVIDER = {**settings.SIMULATED_PROVIDER, "latency": 30.0}  # polled every 5 s
    prompt, video = text_to_video(project)
    job = run_here(plan_run(project, [video.id], user=alice).run, prompt, video)
    assert job.next_poll_at.timestamp() == pytest.approx(time.time() + 5, abs=1)

    # Time passes on the provider's side: the video is now expected in 2 s, less than an interval.
    key = video_provider()._key(job.provider_operation)
    record = json.loads(redis.get(key))
    shift = record["ready_at"] - time.time() - 2
    record["submitted_at"] -= shift
    record["ready_at"] -= shift
    redis.set(key, json.dumps(record))
    running.poll_job(str(job.id))

    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING and job.progress > 0.9
    assert job.next_poll_at.timestamp() == pytest.approx(record["ready_at"], abs=0.5)
