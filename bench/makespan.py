"""Parallel makespan: does a run take as long as its critical path, and what does scheduling add?

Two graphs, run on N real RQ workers with the simulated video provider (its operations take
`--latency` seconds, then it renders the clip like the offline one):
- fan-out: one prompt feeding 8 video nodes;
- chain: a prompt, a video and 8 extends (10 nodes, each waiting for the one before).

*Makespan* is the run's creation to its end. The *critical path* is the longest chain of jobs through
the graph, each counted from its start (claimed by a worker) to its end, as measured in that run: what
the run would take if the next job began the instant the one before ended. *Scheduling overhead* of a
job is the time from the moment it could start (its last dependency ended, or the run was created) to
the moment a worker claimed it: the commit, the enqueue, RQ's pickup and its fork.

Run: .venv/bin/python -m bench.makespan [--workers 8] [--latency 2] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench.common import machine, percentile, setup_django

setup_django()

import django_rq  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from rq import Worker  # noqa: E402

from generation.models import Job, Run  # noqa: E402
from generation.planning import plan_run  # noqa: E402
from projects.models import Project  # noqa: E402
from projects.services import create_project  # noqa: E402
from tests.graphs import add, wait_for_run, wire  # noqa: E402
from tests.workers import Workers, wait_for  # noqa: E402


def fan_out(project: Project, width: int = 8) -> None:
    prompt = add(project, "prompt", "Line", text="A harbour at dawn, boats leaving")
    for number in range(width):
        # Distinct settings, so that the planner does not join them into one job of the same inputs.
        video = add(project, "video", f"Take {number}", duration_seconds=4, negative_prompt=f"take {number}: no fog")
        wire(prompt, "text", video, "prompt")


def chain(project: Project, extends: int = 8) -> None:
    prompt = add(project, "prompt", "Line", text="A harbour at dawn, boats leaving")
    previous = add(project, "video", "Opening", duration_seconds=8)  # Veo extends 8 s clips only
    wire(prompt, "text", previous, "prompt")
    for number in range(extends):
        extend = add(project, "extend", f"Part {number + 2}", prompt_text=f"Part {number + 2}: further out to sea")
        wire(previous, "video", extend, "video")
        previous = extend


def measure(run: Run) -> tuple[float, float, list[float]]:
    """Makespan, critical path, and each job's scheduling overhead, in seconds."""
    jobs = {str(job.id): job for job in run.jobs.all()}
    ends: dict[str, float] = {}  # the critical path's length up to each job's end

    def path_to(job: Job) -> float:
        if str(job.id) not in ends:
            before = max((path_to(jobs[d]) for d in job.depends_on if d in jobs), default=0.0)
            ends[str(job.id)] = before + (job.finished_at - job.started_at).total_seconds()
        return ends[str(job.id)]

    critical = max(path_to(job) for job in jobs.values())
    overheads = []
    for job in jobs.values():
        ready = max((jobs[d].finished_at for d in job.depends_on if d in jobs), default=run.created_at)
        overheads.append((job.started_at - ready).total_seconds())
    return (run.finished_at - run.created_at).total_seconds(), critical, overheads


def simulated_workers(count: int, latency: float) -> Workers:
    """`count` real workers whose videos come from the simulated provider, each registered and idle."""
    workers = Workers()
    workers.start(count, REELGRAPH_VIDEO_PROVIDER="simulated", REELGRAPH_SIMULATED_LATENCY=str(latency))
    # Every worker registered and idle before the first run (8 Django processes start in several seconds here).
    wait_for(lambda: Worker.count(connection=django_rq.get_connection("default")) >= count, timeout=120)
    time.sleep(2)
    return workers


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--latency", type=float, default=2.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    print(f"machine: {machine()}")
    user, _ = get_user_model().objects.get_or_create(username="bench-makespan")
    workers = simulated_workers(args.workers, args.latency)
    results: dict[str, list[tuple[float, float, list[float]]]] = {"fan-out of 8 videos": [], "chain of 10": []}
    try:
        for repeat in range(args.repeats):
            for name, build in (("fan-out of 8 videos", fan_out), ("chain of 10", chain)):
                Project.objects.filter(name=f"Bench makespan {name}").delete()
                project = create_project(user, f"Bench makespan {name}")
                build(project)
                run = plan_run(project, [], user=user, force=True).run
                assert wait_for_run(run, timeout=600).status == Run.Status.SUCCEEDED, workers.logs()
                results[name].append(measure(run))
                print(f"{name}, run {repeat + 1}: makespan {results[name][-1][0]:.2f} s")
    finally:
        workers.stop_all()

    print("| graph | makespan | critical path | ratio (goal <= 1.05) | overhead/job median (goal <= 25 ms) | p95 |")
    print("|---|---|---|---|---|---|")
    for name, runs in results.items():
        makespan = statistics.median(r[0] for r in runs)
        critical = statistics.median(r[1] for r in runs)
        ratio = statistics.median(r[0] / r[1] for r in runs)
        overheads = [o for r in runs for o in r[2]]
        median, p95 = statistics.median(overheads), percentile(overheads, 0.95)
        print(
            f"| {name} | {makespan:.2f} s | {critical:.2f} s | {ratio:.3f} | {median * 1000:.0f} ms "
            f"| {p95 * 1000:.0f} ms |"
        )


if __name__ == "__main__":
    main()
