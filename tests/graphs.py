"""Building graphs for tests, through the same models the API writes."""

from __future__ import annotations

from pathlib import Path

from generation import running
from generation.models import Job, Run
from generation.storage import store_file
from nodes.models import Edge, Node
from projects.models import Asset
from tests.workers import wait_for

FIXTURES = Path(__file__).parent / "fixtures"


def upload(project, name: str = "astronaut.png", kind: str = "image") -> Asset:
    return store_file(project, FIXTURES / name, kind, origin=Asset.Origin.UPLOAD, original_name=name)


def add(project, type: str, title: str = "", **params) -> Node:
    return Node.objects.create(project=project, type=type, title=title or type.capitalize(), params=params)


def wire(source: Node, source_port: str, target: Node, target_port: str, order: int = 0) -> Edge:
    return Edge.objects.create(
        project=source.project,
        source=source,
        source_port=source_port,
        target=target,
        target_port=target_port,
        order=order,
    )


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
    wire(nodes["video"], "video", nodes["stitch"], "videos", order=0)
    wire(nodes["extend"], "clip", nodes["stitch"], "videos", order=1)
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
