"""Operations in flight: one worker process shepherding many long provider operations at once.

A prompt feeds `--operations` video nodes (200); the simulated provider takes `--latency` seconds (30)
per operation and polls every 5 s, with its estimate of the time left for the last poll. One RQ worker
(with its scheduler) submits every operation, polls them, and collects each video when it is ready.
The simulated provider renders one clip per size and copies it after (REELGRAPH_SIMULATED_RENDER_ONCE),
so the figure is the engine's and not 200 ffmpeg renders'.

Reported: the run's makespan (created to finished) ÷ the latency (goal <= 1.1); the spread of the
submits (first to last) and of the collections; how many steps the worker ran (each submit, poll and
collection is one RQ job, forked); and its peak memory: the worker process's own RSS, and the
proportional set size (PSS, shared pages counted once) of the worker with its scheduler and job
processes, sampled every 0.2 s.

Run: .venv/bin/python -m bench.operations [--operations 200] [--latency 30] [--repeats 3] [--workers 1]
(with more workers, the memory figures are still the first worker's)
"""

from __future__ import annotations

import argparse
import math
import os
import re
import statistics
import threading
import time
from pathlib import Path

os.environ.setdefault("REELGRAPH_MAX_CONCURRENT_GENERATIONS", "0")  # 200 at once is the point
os.environ.setdefault("REELGRAPH_DAILY_SPEND_LIMIT_USD", "0")

from bench.common import machine, setup_django

setup_django()

import django_rq  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from rq import Worker  # noqa: E402

from bench.makespan import fan_out  # noqa: E402
from generation.models import Job, Run  # noqa: E402
from generation.planning import plan_run  # noqa: E402
from projects.models import Project  # noqa: E402
from projects.services import create_project  # noqa: E402
from tests.graphs import wait_for_run  # noqa: E402
from tests.workers import Workers, wait_for  # noqa: E402


def tree(pid: int) -> list[int]:
    """The process and its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        pending += children.get(current, [])
    return found


def kib(pid: int, path: str, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/{path}").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class MemorySampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_rss, self.peak_pss = pid, 0, 0
        self.running = True

    def run(self) -> None:
        while self.running:
            self.peak_rss = max(self.peak_rss, kib(self.pid, "status", "VmRSS"))
            self.peak_pss = max(self.peak_pss, sum(kib(pid, "smaps_rollup", "Pss") for pid in tree(self.pid)))
            time.sleep(0.2)


STEP = re.compile(
    r"Successfully completed generation\.tasks\.(run_job|poll_job)\('([0-9a-f-]+)'\) job in (\d+):(\d+):([\d.]+)s"
)


def steps_run(log: str, videos: set[str]) -> dict[str, list[float]]:
    """Seconds each step of the video jobs took in its job process, from the worker's log: submits,
    polls, and collections (the longest poll of each job: the one that downloads the video, makes its
    poster and last frame with ffmpeg, stores them and ends the job)."""
    submits, polls = [], {}
    for kind, job_id, hours, minutes, seconds in STEP.findall(log):
        if job_id not in videos:
            continue
        took = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
        if kind == "run_job":
            submits.append(took)
        else:
            polls.setdefault(job_id, []).append(took)
    collections = [max(times) for times in polls.values()]
    others = [took for times in polls.values() for took in sorted(times)[:-1]]
    return {"submits": submits, "polls": others, "collections": collections}


def milliseconds(seconds: list[float]) -> float:
    """The median in ms, or NaN (printed "nan") when there is no sample."""
    return statistics.median(seconds) * 1000 if seconds else math.nan


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--operations", type=int, default=200)
    parser.add_argument("--latency", type=float, default=30.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1, help="the figure is for 1; more show how it scales out")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    print(f"machine: {machine()}")
    user, _ = get_user_model().objects.get_or_create(username="bench-operations")
    rows = []
    for repeat in range(args.repeats):
        Project.objects.filter(name="Bench operations").delete()
        project = create_project(user, "Bench operations")
        fan_out(project, args.operations)
        django_rq.get_connection("default").flushdb()  # no scheduled polls left from an earlier run
        workers = Workers()
        worker = workers.start(
            args.workers,
            REELGRAPH_VIDEO_PROVIDER="simulated",
            REELGRAPH_SIMULATED_LATENCY=str(args.latency),
            REELGRAPH_SIMULATED_RENDER_ONCE="1",
        )[0]
        wait_for(lambda: Worker.count(connection=django_rq.get_connection("default")) >= args.workers, timeout=120)
        time.sleep(2)
        sampler = MemorySampler(worker.process.pid)
        sampler.start()
        try:
            run = plan_run(project, [], user=user, force=True).run
            assert wait_for_run(run, timeout=1800).status == Run.Status.SUCCEEDED, workers.logs()
        finally:
            sampler.running = False
            workers.stop_all()
        videos = list(Job.objects.filter(run=run, node__type="video"))
        assert len(videos) == args.operations
        makespan = (run.finished_at - run.created_at).total_seconds()
        submits = sorted(job.started_at for job in videos)
        ends = sorted(job.finished_at for job in videos)
        log = "\n".join(each.output() for each in workers.started)
        steps = steps_run(log, {str(job.id) for job in videos})
        rows.append(
            {
                "makespan": makespan,
                "ratio": makespan / args.latency,
                "submit_spread": (submits[-1] - submits[0]).total_seconds(),
                "end_spread": (ends[-1] - ends[0]).total_seconds(),
                "steps": sum(len(times) for times in steps.values()),
                "polls": len(steps["polls"]),
                # Polls that found nothing to do: a second poll of the same job (the reconciler adds one
                # when a scheduled poll is 10 s late), or one that came after the job had ended.
                "idle_polls": log.count("has no operation to poll right now"),
                "submit_ms": milliseconds(steps["submits"]),
                "poll_ms": milliseconds(steps["polls"]),  # none when every first poll found the video ready
                "collection_ms": milliseconds(steps["collections"]),
                "rss": sampler.peak_rss / 1024,
                "pss": sampler.peak_pss / 1024,
            }
        )
        print(f"run {repeat + 1}: " + ", ".join(f"{key} {value:.2f}" for key, value in rows[-1].items()))

    def median(key: str) -> float:
        values = [row[key] for row in rows if not math.isnan(row[key])]
        return statistics.median(values) if values else math.nan

    print(
        "| operations | latency | makespan | ratio (goal <= 1.1) | submits spread over | collections spread over "
        "| worker peak RSS | worker + children peak PSS |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| {args.operations} | {args.latency:.0f} s | {median('makespan'):.1f} s | {median('ratio'):.2f} "
        f"| {median('submit_spread'):.1f} s | {median('end_spread'):.1f} s "
        f"| {median('rss'):.0f} MiB | {median('pss'):.0f} MiB |"
    )
    print()
    print("| steps run | polls besides collections | of them idle | submit (median) | poll | collection |")
    print("|---|---|---|---|---|---|")
    print(
        f"| {median('steps'):.0f} | {median('polls'):.0f} | {median('idle_polls'):.0f} | {median('submit_ms'):.0f} ms "
        f"| {median('poll_ms'):.0f} ms | {median('collection_ms'):.0f} ms |"
    )


if __name__ == "__main__":
    main()
