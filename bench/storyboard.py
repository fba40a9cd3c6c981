"""A storyboard's film on a graph against the same shots made one after another (issue 20).

A 30 s, 6-shot storyboard (3 cuts, 3 continuations: cut, carry on, cut, carry on, ...) is expanded
into nodes and its film run on N real RQ workers, every video from the simulated provider (its
operations take `--latency` seconds, then it renders the clip), keyframes and music offline.

- *Makespan*: the film's run, from its creation to its end.
- *Longest chain*: the longest chain of dependent jobs, each counted from its claim by a worker to its
  end, as measured in that run (bench.makespan's critical path). Goal: makespan / chain <= 1.1.
- *One after another*: the sum of every job's own time in that run, what a pipeline that makes each
  step after the one before would take at best. Goal: at least 2.5x the makespan.

Run: .venv/bin/python -m bench.storyboard [--workers 6] [--latency 20] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics

from bench.common import machine, setup_django

setup_django()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402

from actions.storyboard import expand  # noqa: E402
from bench.makespan import measure, simulated_workers  # noqa: E402
from generation.models import Run  # noqa: E402
from generation.planning import plan_run  # noqa: E402
from nodes.models import Node  # noqa: E402
from projects.models import Project  # noqa: E402
from projects.services import create_project  # noqa: E402
from tests.graphs import add, wait_for_run, wire  # noqa: E402

BRIEF = "A 30-second ad for a trail-running shoe: a runner crosses a misty ridge at dawn"


def film(user, repeat: int) -> Node:
    """The storyboard planned offline (6 shots of 30 s) and expanded: the film's Stitch."""
    name = f"Bench storyboard {repeat}"
    Project.objects.filter(name=name).delete()
    project = create_project(user, name)
    brief = add(project, "prompt", "Brief", text=f"{BRIEF} (take {repeat})")
    board = add(project, "storyboard", "Storyboard", seconds=30, shot_count=6)
    wire(brief, "text", board, "brief")
    run = wait_for_run(plan_run(project, [board.id], user=user).run, timeout=120)
    assert run.status == Run.Status.SUCCEEDED
    return Node.objects.get(pk=expand(Node.objects.get(pk=board.pk), user).film)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=6)
    parser.add_argument("--latency", type=float, default=20.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    print(f"machine: {machine()}")
    user, _ = get_user_model().objects.get_or_create(username="bench-storyboard")
    workers = simulated_workers(args.workers, args.latency)
    rows = []
    try:
        for repeat in range(args.repeats):
            stitch = film(user, repeat)
            run = wait_for_run(plan_run(stitch.project, [stitch.id], user=user).run, timeout=900)
            assert run.status == Run.Status.SUCCEEDED, workers.logs()
            makespan, chain, _ = measure(run)
            serial = sum((job.finished_at - job.started_at).total_seconds() for job in run.jobs.all())
            rows.append((makespan, chain, serial, run.jobs.count()))
            jobs = rows[-1][3]
            print(f"run {repeat + 1}: {jobs} jobs, makespan {makespan:.1f} s, chain {chain:.1f} s, sum {serial:.1f} s")
    finally:
        workers.stop_all()

    makespan, chain, serial = (statistics.median(row[i] for row in rows) for i in range(3))
    print("| makespan | longest chain | makespan / chain (goal <= 1.1) | one after another | speed-up (goal >= 2.5) |")
    print("|---|---|---|---|---|")
    print(f"| {makespan:.1f} s | {chain:.1f} s | {makespan / chain:.3f} | {serial:.1f} s | {serial / makespan:.2f}x |")


if __name__ == "__main__":
    main()
