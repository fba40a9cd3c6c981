"""What reaches the browsers of a project over Channels, and when: each event read from the real
channel layer as the project's consumer receives it, after the transaction that caused it commits,
with every field of its payload. Jobs run in this process, as a worker would."""

import asyncio

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import channel_layers, get_channel_layer
from django.test import Client

from actions import moderation
from assets.models import Asset
from characters.models import Character
from generation import running
from generation.models import Job, Run
from generation.planning import plan_run
from live import events, snapshot
from nodes.models import Node
from nodes.notes import add_note
from nodes.services import update_node
from tests.graphs import add, text_to_video, upload, upload_audio, upload_video

pytestmark = pytest.mark.django_db

END = {"type": "test.end"}  # sent after the action: everything before it in the group was sent by the action


def heard(project_id, action):
    """Run `action` (sync) and return (its result, the events it sent to the project's group, in order)."""

    async def scenario():
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(events.group_name(project_id), channel)
        result = await sync_to_async(action)()
        await layer.group_send(events.group_name(project_id), {"type": "project.event", "event": END})
        messages = []
        while (message := await asyncio.wait_for(layer.receive(channel), 10))["event"] != END:
            messages.append(message)
        await layer.group_discard(events.group_name(project_id), channel)
        return result, messages

    result, messages = async_to_sync(scenario)()
    assert {message["type"] for message in messages} <= {"project.event"}  # the consumer's handler
    return result, [message["event"] for message in messages]


def committed(capture, action):
    """`action` in a transaction that commits when it returns (the test's own never does)."""

    def run():
        with capture(execute=True):
            return action()

    return run


def by_type(sent) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for event in sent:
        found.setdefault(event["type"], []).append(event)
    return found


def expected_node(node: Node, **changes) -> dict:
    node.refresh_from_db()
    return {
        "id": str(node.id),
        "type": node.type,
        "title": node.title,
        "x": node.x,
        "y": node.y,
        "params": node.params,
        "status": node.status,
        "version": node.version,
        "updated_at": node.updated_at.isoformat(),
        "output": node.output,
        "error": node.error_message,
        "selected_take": None,
        "job_id": None,
        "progress": 0.0,
        "progress_label": "",
        "media": {},
        "characters": {},
        "outdated": False,
        "keep": None,
        "variations": [],
    } | changes


def expected_run(run: Run, *, reload: bool = True) -> dict:
    if reload:
        run.refresh_from_db()
    return {
        "id": str(run.id),
        "status": run.status,
        "targets": run.targets,
        "plan": run.plan,
        "cost_estimate": str(run.cost_estimate),
        "created_at": run.created_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }


def run_jobs(plan, capture):
    def run():
        for job in plan.jobs:
            with capture(execute=True):
                running.run_job(str(job.id))

    return run


def test_starting_a_run_announces_its_plan_then_each_queued_node(
    project, alice, redis, django_capture_on_commit_callbacks
):
    prompt, video = text_to_video(project)

    plan, sent = heard(
        project.id, committed(django_capture_on_commit_callbacks, lambda: plan_run(project, [video.id], user=alice))
    )

    assert [event["type"] for event in sent] == ["run.planned", "node.status", "node.status"]
    assert sent[0] == {"type": "run.planned", "run": expected_run(plan.run, reload=False)}
    assert sent[0]["run"]["status"] == "running" and sent[0]["run"]["finished_at"] is None
    jobs = {str(job.node_id): job for job in plan.jobs}
    assert {event["node"]["id"]: event["node"] for event in sent[1:]} == {
        str(node.id): expected_node(node, status="queued", job_id=str(jobs[str(node.id)].id))
        for node in (prompt, video)
    }


def test_nothing_is_sent_before_the_transaction_commits(project, alice, redis, django_capture_on_commit_callbacks):
    prompt = add(project, "prompt", text="A lighthouse")

    def plan_without_commit():
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            plan_run(project, [prompt.id], user=alice)
        return callbacks

    callbacks, before_commit = heard(project.id, plan_without_commit)
    _, at_commit = heard(project.id, lambda: [callback() for callback in callbacks[:2]])  # the two broadcasts

    assert before_commit == []
    assert [event["type"] for event in at_commit] == ["run.planned", "node.status"]


def test_a_finished_job_sends_its_take_its_node_and_the_end_of_its_run(
    project, alice, redis, django_capture_on_commit_callbacks
):
    prompt = add(project, "prompt", text="A lighthouse")
    plan = plan_run(project, [prompt.id], user=alice)

    _, sent = heard(project.id, run_jobs(plan, django_capture_on_commit_callbacks))

    found = by_type(sent)
    assert [event["type"] for event in sent if event["type"] != "node.progress"] == [
        "node.status",  # running
        "node.output",
        "node.status",  # succeeded
        "run.finished",
    ]
    take = prompt.takes.get()
    take_state = {
        "id": str(take.id),
        "number": 1,
        "outputs": {"text": "A lighthouse"},
        "details": {"original": "A lighthouse"},  # what the job noted, without its wiring
        "provider": take.provider,
        "model": take.model,
        "created_at": take.created_at.isoformat(),
    }
    succeeded = expected_node(prompt, status="succeeded", selected_take=take_state)
    assert found["node.output"] == [{"type": "node.output", "node": succeeded, "take": take_state}]
    assert found["node.status"][-1] == {"type": "node.status", "node": succeeded}
    assert found["run.finished"] == [{"type": "run.finished", "run": expected_run(plan.run)}]
    assert found["run.finished"][0]["run"]["status"] == "succeeded"
    assert found["run.finished"][0]["run"]["finished_at"] is not None


def test_progress_names_the_node_the_job_and_the_label(project, alice, redis, django_capture_on_commit_callbacks):
    prompt = add(project, "prompt", text="A lighthouse")
    job = plan_run(project, [prompt.id], user=alice).jobs[0]
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)  # as a worker's claim leaves it

    _, sent = heard(
        project.id,
        committed(django_capture_on_commit_callbacks, lambda: running.report_progress(job, 0.25, "Enhancing")),
    )

    assert sent == [
        {
            "type": "node.progress",
            "node_id": str(prompt.id),
            "job_id": str(job.id),
            "progress": 0.25,
            "label": "Enhancing",
        }
    ]


def test_a_failed_job_sends_its_error_with_its_code_and_attempt(
    project, alice, redis, django_capture_on_commit_callbacks
):
    not_a_video = add(project, "clip", "Clip", asset_id=str(upload(project).id))
    plan = plan_run(project, [not_a_video.id], user=alice)

    _, sent = heard(project.id, run_jobs(plan, django_capture_on_commit_callbacks))

    job = Job.objects.get()
    assert by_type(sent)["job.error"] == [
        {
            "type": "job.error",
            "job_id": str(job.id),
            "node_id": str(not_a_video.id),
            "run_id": str(plan.run.id),
            "code": "not_video",
            "message": "A Clip needs a video file (this one is image): choose a video.",
            "retrying": False,
            "attempt": 1,
        }
    ]
    assert by_type(sent)["node.status"][-1]["node"]["error"] == job.error_message
    assert by_type(sent)["node.status"][-1]["node"]["status"] == "failed"


def footage_clip(project, alice, tmp_path, capture) -> tuple[Node, Asset, list[dict]]:
    """A clip node showing an uploaded one-second video (made by ffmpeg), run here; and what its run sent."""
    footage = upload_video(project, tmp_path)
    clip = add(project, "clip", "Footage", asset_id=str(footage.id))
    plan = plan_run(project, [clip.id], user=alice)
    _, sent = heard(project.id, run_jobs(plan, capture))
    return clip, footage, sent


def test_a_video_output_comes_with_its_media(project, alice, redis, tmp_path, django_capture_on_commit_callbacks):
    _, footage, sent = footage_clip(project, alice, tmp_path, django_capture_on_commit_callbacks)

    node = by_type(sent)["node.output"][0]["node"]
    assert list(node["media"]) == [str(footage.id)] and node["characters"] == {}
    shown = node["media"][str(footage.id)]
    served = Client().get(shown["url"])  # the short-lived URL serves the file itself
    assert served.status_code == 200 and b"".join(served.streaming_content) == footage.file.open("rb").read()
    assert {key: value for key, value in shown.items() if key != "url"} == {
        "kind": "video",
        "hidden": None,
        "poster": None,
        "provider": "",
        "model": "",
        "width": 64,
        "height": 48,
        "duration": footage.duration_seconds,
    }
    assert footage.duration_seconds > 0


def test_an_audio_output_comes_with_its_media(project, alice, redis, tmp_path, django_capture_on_commit_callbacks):
    tone = upload_audio(project, tmp_path)
    sound = add(project, "audio", "Soundtrack", asset_id=str(tone.id))
    plan = plan_run(project, [sound.id], user=alice)

    _, sent = heard(project.id, run_jobs(plan, django_capture_on_commit_callbacks))

    shown = by_type(sent)["node.output"][0]["node"]["media"]
    assert list(shown) == [str(tone.id)]
    assert (shown[str(tone.id)]["kind"], shown[str(tone.id)]["width"]) == ("audio", None)
    assert shown[str(tone.id)]["duration"] == tone.duration_seconds > 0


def test_a_hidden_output_is_sent_again_without_its_url_and_with_the_reason(
    project, alice, redis, tmp_path, django_capture_on_commit_callbacks
):
    clip, footage, _ = footage_clip(project, alice, tmp_path, django_capture_on_commit_callbacks)

    _, sent = heard(
        project.id,
        committed(django_capture_on_commit_callbacks, lambda: moderation.hide_assets([footage], alice, "Not allowed.")),
    )

    assert [(event["type"], event["node"]["id"]) for event in sent] == [("node.status", str(clip.id))]
    shown = sent[0]["node"]["media"][str(footage.id)]
    assert (shown["url"], shown["hidden"], shown["kind"]) == (None, "Not allowed.", "video")


# The snapshot a browser gets on (re)connect


def test_the_snapshot_has_every_node_edge_note_and_running_run(project, alice, redis):
    prompt, video = text_to_video(project)
    lone = add(project, "prompt", "Lone", text="Quiet")
    note = add_note(project, alice, text="Remember the sea", x=10, y=20)
    run = plan_run(project, [prompt.id], user=alice).run
    plan_run(project, [lone.id], user=alice)
    running.run_job(str(Job.objects.get(node=lone).id))  # that run has ended: not in the snapshot
    lone.refresh_from_db()
    update_node(lone, lone.version, {"params": {**lone.params, "text": "Loud"}})  # its take is outdated now

    shown = snapshot.graph_snapshot(project)

    edge = project.edges.get()
    assert shown["type"] == "graph.snapshot"
    assert shown["project"] == {"id": str(project.id), "name": "Alice's film"}
    assert shown["edges"] == [
        {
            "id": str(edge.id),
            "source": str(prompt.id),
            "source_port": "text",
            "target": str(video.id),
            "target_port": "prompt",
            "order": 0,
        }
    ]
    note.refresh_from_db()
    assert shown["notes"] == [snapshot.note_state(note)]
    assert shown["notes"][0]["created_by"] == "alice" and shown["notes"][0]["text"] == "Remember the sea"
    assert shown["runs"] == [expected_run(run)]
    nodes = {node["id"]: node for node in shown["nodes"]}
    job = Job.objects.get(node=prompt)
    assert nodes[str(prompt.id)] == expected_node(prompt, job_id=str(job.id))
    assert nodes[str(video.id)] == expected_node(video)
    assert nodes[str(lone.id)]["outdated"] is True and nodes[str(lone.id)]["selected_take"]["number"] == 1
    assert nodes[str(lone.id)]["job_id"] is None


def test_a_node_state_is_outdated_only_when_its_take_no_longer_matches(project, alice, redis):
    prompt = add(project, "prompt", text="A lighthouse")
    assert snapshot.node_state(prompt)["outdated"] is False
    plan_run(project, [prompt.id], user=alice)
    running.run_job(str(Job.objects.get().id))
    prompt.refresh_from_db()
    assert snapshot.node_state(prompt)["outdated"] is False

    prompt = update_node(prompt, prompt.version, {"params": {**prompt.params, "text": "A storm"}})
    prompt.refresh_from_db()

    assert snapshot.node_state(prompt)["outdated"] is True
    assert snapshot.node_state(prompt, outdated=set())["outdated"] is False  # the caller's answer is used


def test_a_failed_send_is_logged_and_does_not_fail_the_work(project, caplog, settings):
    nowhere = {"hosts": ["redis://127.0.0.1:1/0"]}  # nothing listens on port 1
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": nowhere}}
    channel_layers.backends.pop("default", None)  # the fresh_channel_layer fixture drops it again after

    events.send(project.id, {"type": "member.removed", "user_id": 1})

    (record,) = [record for record in caplog.records if record.name == "live.events"]
    assert (record.levelname, record.getMessage()) == (
        "WARNING",
        f"could not send member.removed to project {project.id}",
    )
    assert record.exc_info and record.exc_info[0] is not None  # with the reason it failed


def test_a_character_output_comes_with_its_name_and_face_until_hidden(
    project, alice, redis, django_capture_on_commit_callbacks
):
    image = add(project, "image", "Photo", asset_id=str(upload(project).id))
    plan = plan_run(project, [image.id], user=alice)

    _, sent = heard(project.id, run_jobs(plan, django_capture_on_commit_callbacks))

    image.refresh_from_db()
    character = Character.objects.get(pk=image.output["character"])
    node = by_type(sent)["node.output"][0]["node"]
    assert list(node["media"]) == [image.output["image"]]  # the character's face is not an output file
    shown = node["characters"][str(character.id)]
    assert list(node["characters"]) == [str(character.id)]
    assert (shown["name"], shown["approximate"], shown["hidden"]) == (character.name, character.approximate, None)
    face = character.face_asset or character.source_asset
    served = Client().get(shown["face"])
    assert served.status_code == 200 and b"".join(served.streaming_content) == face.file.open("rb").read()

    _, sent = heard(
        project.id,
        committed(
            django_capture_on_commit_callbacks,
            lambda: moderation.hide_characters([character], alice, "Not this person."),
        ),
    )

    hidden = by_type(sent)["node.status"][-1]["node"]["characters"][str(character.id)]
    assert hidden == {
        "name": "Hidden character",
        "approximate": character.approximate,
        "face": None,
        "hidden": "Not this person.",
    }
