"""Bring your own footage: an uploaded video in a Clip node, stitched and continued from its last frame."""

import subprocess

import imageio_ffmpeg
import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from assets import media
from generation import running
from generation.models import Job
from generation.planning import plan_run
from nodes.models import Node
from tests.api import Api, error_of
from tests.engine_helpers import asset_path
from tests.graphs import run_here, upload
from tests.test_stitch_order import mean_colour

pytestmark = pytest.mark.django_db

RED, BLUE = (255, 0, 0), (0, 0, 255)


def footage(tmp_path, colour: str, seconds: float) -> SimpleUploadedFile:
    """A phone-like clip from another encoder (25 fps, 640x360, B-frames), one colour throughout."""
    out = tmp_path / f"{colour}.mp4"
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", f"color=c={colour}:size=640x360:rate=25",
         "-f", "lavfi", "-i", "sine=frequency=330", "-t", str(seconds), "-c:v", "libx264", "-c:a", "aac", str(out)],
        check=True,
    )  # fmt: skip
    return SimpleUploadedFile(f"{colour}.mp4", out.read_bytes())


@pytest.fixture
def api(alice):
    return Api(alice)


def clip_node(api, project, file) -> Node:
    asset = api.upload(f"/projects/{project.id}/assets", file)
    assert asset.status_code == 201, asset.content
    created = api.post(f"/projects/{project.id}/nodes", {"type": "clip", "params": {"asset_id": asset.json()["id"]}})
    assert created.status_code == 201, created.content
    return Node.objects.get(pk=created.json()["id"])


def node(api, project, type, **params) -> Node:
    return Node.objects.get(pk=api.post(f"/projects/{project.id}/nodes", {"type": type, "params": params}).json()["id"])


def connect(api, project, source, source_port, target, target_port):
    body = {"source": str(source.id), "source_port": source_port, "target": str(target.id), "target_port": target_port}
    response = api.post(f"/projects/{project.id}/edges", body)
    assert response.status_code == 201, response.content


def close_to(colour, expected) -> bool:
    return np.abs(np.asarray(colour) - np.asarray(expected)).max() < 40


def test_uploaded_clips_are_stitched_in_order(api, alice, project, tmp_path):
    red, blue = (
        clip_node(api, project, footage(tmp_path, "red", 2)),
        clip_node(api, project, footage(tmp_path, "blue", 3)),
    )
    stitch = node(api, project, "stitch")
    connect(api, project, blue, "video", stitch, "videos")
    connect(api, project, red, "video", stitch, "videos")

    run_here(plan_run(project, [stitch.id], user=alice).run, blue, red, stitch)

    stitch.refresh_from_db()
    film = asset_path(stitch.output["video"])
    assert media.probe(film).duration == pytest.approx(5, abs=0.1)
    assert close_to(mean_colour(film, 1.0), BLUE) and close_to(mean_colour(film, 4.0), RED)


def test_a_clip_continues_from_its_last_frame(api, alice, project, tmp_path, redis):
    red = clip_node(api, project, footage(tmp_path, "red", 2))
    extend = node(api, project, "extend", mode="last_frame", prompt_text="The red wall fades", duration_seconds=4)
    connect(api, project, red, "video", extend, "video")

    job = run_here(plan_run(project, [extend.id], user=alice).run, red, extend)
    running.poll_job(str(job.id))  # the offline renderer has it ready at once

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error_message
    extend.refresh_from_db()
    combined = asset_path(extend.output["video"])
    assert media.probe(combined).duration == pytest.approx(6, abs=0.1)
    assert close_to(mean_colour(combined, 1.0), RED)


def test_veo_extension_mode_refuses_a_clip_and_says_why(api, project, tmp_path):
    red = clip_node(api, project, footage(tmp_path, "red", 2))
    extend = node(api, project, "extend", mode="veo")
    connect(api, project, red, "video", extend, "video")

    response = api.post(f"/projects/{project.id}/runs", {"targets": [str(extend.id)], "dry_run": True})

    assert response.status_code == 422
    problems = error_of(response)["details"]["nodes"][str(extend.id)]
    assert problems == [
        {
            "message": "Veo can only extend videos Veo made, not an uploaded clip: "
            "set the mode to last_frame, which extends any video.",
            "code": "veo_rule",
            "port": None,
            "field": "mode",
        }
    ]


def test_a_clip_of_a_photo_fails_with_a_message_and_no_output(api, alice, project):
    clip = node(api, project, "clip", asset_id=str(upload(project).id))

    job = run_here(plan_run(project, [clip.id], user=alice).run, clip)

    assert job.status == Job.Status.FAILED and job.error_code == "not_video"
    assert "needs a video file (this one is image)" in job.error_message
    clip.refresh_from_db()
    assert clip.output == {}
