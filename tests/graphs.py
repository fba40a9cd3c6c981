"""Building graphs for tests, through the same models the API writes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np

from assets.models import Asset
from assets.storage import store_file
from characters.models import Character
from generation import running
from generation.models import Job, Run
from nodes import services
from nodes.models import Edge, Node, Take
from tests.workers import wait_for

FIXTURES = Path(__file__).parent / "fixtures"


def upload(project, name: str = "astronaut.png", kind: str = "image") -> Asset:
    return store_file(project, FIXTURES / name, kind, origin=Asset.Origin.UPLOAD, original_name=name)


def upload_video(project, folder: Path, seconds: int = 1) -> Asset:
    """A blue 64x48 video of `seconds`, made by ffmpeg in `folder` and uploaded."""
    return _upload_made(project, folder / "blue.mp4", "video", f"color=c=blue:s=64x48:d={seconds}", "yuv420p")


def upload_audio(project, folder: Path, seconds: int = 1) -> Asset:
    """A 440 Hz tone of `seconds`, made by ffmpeg in `folder` and uploaded."""
    return _upload_made(project, folder / "tone.wav", "audio", f"sine=frequency=440:duration={seconds}")


def _upload_made(project, path: Path, kind: str, source: str, pixels: str = "") -> Asset:
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", source]
    subprocess.run([*command, *(["-pix_fmt", pixels] if pixels else []), str(path)], check=True)
    return store_file(project, path, kind, origin=Asset.Origin.UPLOAD, original_name=path.name)


def add(project, type: str, title: str = "", **params) -> Node:
    """A node as the canvas adds one: its settings checked by its node type."""
    return services.add_node(project, type=type, title=title or type.capitalize(), params=params)


def wire(source: Node, source_port: str, target: Node, target_port: str) -> Edge:
    """A connection as the canvas makes one: refused where the graph would not take it, and numbered
    after the port's earlier inputs (tests that need an order connect in that order)."""
    edge, _ = services.connect(
        source.project, source=source, source_port=source_port, target=target, target_port=target_port
    )
    return edge


def stale_edge(source: Node, source_port: str, target: Node, target_port: str) -> Edge:
    """An edge the canvas refuses today (ports of the wrong kind), as an older release's data or a graph
    written by hand can hold one: for the tests of what the planner says about it."""
    return Edge.objects.create(
        project=source.project, source=source, source_port=source_port, target=target, target_port=target_port
    )


def history(project, owner, video: Node) -> dict:
    """What earlier work leaves behind, for tests that need an object of every kind: a run with a
    failed job of `video`, a take of it showing an uploaded photo, and two characters of `owner`."""
    asset = upload(project)
    run = Run.objects.create(project=project, created_by=owner)
    job = Job.objects.create(project=project, node=video, run=run, status=Job.Status.FAILED, queue="video")
    take = Take.objects.create(node=video, number=1, cache_key="k", outputs={"video": str(asset.id)})
    video.output = take.outputs  # something to report
    video.save(update_fields=["output"])
    rng = np.random.default_rng(1)
    character = Character.objects.create(owner=owner, name="Ada", embedding=rng.normal(size=512), source_asset=asset)
    twin = Character.objects.create(owner=owner, name="Ada 2", embedding=rng.normal(size=512), source_asset=asset)
    return {"asset": asset, "run": run, "job": job, "take": take, "character": character, "twin": twin}


def text_to_video(project, title: str = "Shot", **video_params) -> tuple[Node, Node]:
    """A prompt wired into a video node (4 s unless `video_params` say otherwise)."""
    prompt = add(project, "prompt", f"{title} prompt", text=f"{title}: a lighthouse in a storm")
    video = add(project, "video", title, **({"duration_seconds": 4} | video_params))
    wire(prompt, "text", video, "prompt")
    return prompt, video


def film(project) -> dict[str, Node]:
    """image → prompt → video → extend → stitch(video, new part): the graph of the product's promise."""
    photo = upload(project)
    nodes = {
        "image": add(project, "image", "Astronaut photo", asset_id=str(photo.id)),
        "prompt": add(project, "prompt", "Opening line", text="An astronaut waves at the camera", enhance=True),
        "video": add(project, "video", "Opening shot", duration_seconds=8),
        "extend": add(project, "extend", "Continue", prompt_text="She turns towards the window"),
        "stitch": add(project, "stitch", "Final cut"),
    }
    wire(nodes["image"], "image", nodes["prompt"], "image")
    wire(nodes["image"], "image", nodes["video"], "first_frame")
    wire(nodes["prompt"], "text", nodes["video"], "prompt")
    wire(nodes["video"], "video", nodes["extend"], "video")
    wire(nodes["video"], "video", nodes["stitch"], "videos")
    wire(nodes["extend"], "clip", nodes["stitch"], "videos")
    return nodes


def wait_for_run(run: Run, timeout: float = 180) -> Run:
    def finished():
        run.refresh_from_db()
        return run.status != Run.Status.RUNNING

    wait_for(finished, timeout=timeout, message=f"run {run.id} to finish")
    return run


def run_here(run: Run, *nodes: Node) -> Job:
    """Run the jobs of `nodes` in this process, in order, as a worker would; returns the last one."""
    for node in nodes:
        job = Job.objects.get(run=run, node=node)
        running.run_job(str(job.id))
    job.refresh_from_db()
    return job
