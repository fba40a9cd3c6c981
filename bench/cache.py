"""Re-running an unchanged 100-node graph: no provider call, and a fast plan.

Twenty films of five nodes (two prompts, two videos, a stitch) in one project, run once for real by two
RQ workers with the offline providers. Then the whole graph is run again, unchanged, through the API
(`POST /runs`, as the canvas's Run all does): every node must come back cached, with no job made and no
provider submit. Reports the median time of that request (plan and report) and of a dry run.

Run: .venv/bin/python -m bench.cache [--films 20] [--runs 9]
"""

from __future__ import annotations

import argparse
import os
import time

from bench.common import machine, median_seconds, setup_django

# 40 video generations in one run: more than the per-user quota lets one person start at once.
os.environ.setdefault("REELGRAPH_MAX_CONCURRENT_GENERATIONS", "0")
setup_django()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from generation.models import Job  # noqa: E402
from generation.planning import plan_run  # noqa: E402
from projects.models import Project  # noqa: E402
from projects.services import create_project  # noqa: E402
from providers.local_video import submit_count  # noqa: E402
from tests.graphs import add, wait_for_run, wire  # noqa: E402
from tests.workers import Workers  # noqa: E402


def build(user, films: int) -> Project:
    Project.objects.filter(name="Bench cache").delete()
    project = create_project(user, "Bench cache")
    for number in range(films):
        stitch = add(project, "stitch", f"Film {number}")
        for shot in range(2):
            prompt = add(project, "prompt", f"Film {number} line {shot}", text=f"Film {number}, shot {shot}: a harbour")
            video = add(project, "video", f"Film {number} shot {shot}", duration_seconds=4)
            wire(prompt, "text", video, "prompt")
            wire(video, "video", stitch, "videos", order=shot)
    return project


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--films", type=int, default=20)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    user, _ = get_user_model().objects.get_or_create(username="bench-cache")
    project = build(user, args.films)
    nodes = project.nodes.count()
    print(f"machine: {machine()}")

    workers = Workers()
    workers.start(2)
    try:
        started = time.monotonic()
        first = plan_run(project, [], user=user).run
        assert wait_for_run(first, timeout=1800).status == "succeeded", workers.logs()
        print(f"first run: {nodes} nodes, {first.jobs.count()} jobs, {time.monotonic() - started:.0f} s")
    finally:
        workers.stop_all()

    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    url = f"/api/v1/projects/{project.id}/runs"
    jobs, submits = Job.objects.count(), submit_count("local")

    def rerun(dry_run: bool) -> dict:
        response = client.post(url, {"targets": [], "dry_run": dry_run}, content_type="application/json")
        assert response.status_code == 200, response.content[:500]
        return response.json()

    for dry_run in (True, False):
        plan = rerun(dry_run)
        actions = {node["action"] for node in plan["nodes"]}
        assert actions == {"cached"} and len(plan["nodes"]) == nodes, actions
        median, samples = median_seconds(lambda dry_run=dry_run: rerun(dry_run), runs=args.runs)
        kind = "dry run (plan only)" if dry_run else "run (plan, record, report)"
        print(
            f"{kind}: median {median * 1000:.1f} ms, min {min(samples) * 1000:.1f}, "
            f"max {max(samples) * 1000:.1f} ({args.runs} runs); all {nodes} nodes cached"
        )
    made, submitted = Job.objects.count() - jobs, submit_count("local") - submits
    print(f"jobs made by the re-runs: {made}; provider submits: {submitted}")
    median, _ = median_seconds(lambda: plan_run(project, [], user=user, dry_run=True), runs=args.runs)
    print(f"of which planning (planning.plan_run, dry): median {median * 1000:.1f} ms")


if __name__ == "__main__":
    main()
