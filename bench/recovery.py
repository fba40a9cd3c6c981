"""Recovery after a worker dies mid-step: seconds from the SIGKILL to another worker taking the job up.

Two RQ workers with the DEFAULT settings (maintenance every 15 s, the default retry intervals) run
Veo generations against the loopback Gemini server (the real google-genai SDK). Each round holds the
next operation poll at the server, SIGKILLs the worker executing it (with its work horse and
scheduler), and times until the surviving worker has claimed the job again; then the poll is let go,
the run finishes, and a fresh worker replaces the dead one. The goal is a median of 30 s or less.

Run: .venv/bin/python -m bench.recovery [--kills 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("REELGRAPH_DAILY_SPEND_LIMIT_USD", "0")  # 20 runs of a bench user, not a quota test

from bench.common import machine, percentile, setup_django

setup_django()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import override_settings  # noqa: E402

from generation.models import Job, Run  # noqa: E402
from generation.planning import plan_run  # noqa: E402
from projects.models import Project  # noqa: E402
from projects.services import create_project  # noqa: E402
from tests.fakes.gemini import Accept, GeminiFake  # noqa: E402
from tests.graphs import text_to_video, wait_for_run  # noqa: E402
from tests.workers import Workers, wait_for  # noqa: E402

# The defaults of config.settings, not the shortened ones tests/workers.py gives its workers.
DEFAULTS = {"REELGRAPH_RQ_MAINTENANCE_SECONDS": "15", "REELGRAPH_RETRY_INTERVALS": "5,20,60"}


def one_kill(project, user, gemini, workers: Workers, environment: dict[str, str], number: int) -> float:
    hold = Accept(release=threading.Event())
    gemini.holds["poll"] = hold
    _, video = text_to_video(project, f"Kill {number}")
    run = plan_run(project, [video.id], user=user).run
    wait_for(hold.received.is_set, interval=0.02, timeout=120, message="the poll to reach the server")
    job = Job.objects.get(run=run, node=video)
    victim = next(worker for worker in workers.started if worker.name == job.worker)  # names are unique
    victim.kill()
    killed = time.monotonic()
    wait_for(
        lambda: Job.objects.filter(pk=job.pk, lease_until__isnull=False).exclude(worker=job.worker).exists(),
        interval=0.05,
        timeout=300,
        message="another worker to take the job",
    )
    seconds = time.monotonic() - killed
    hold.release.set()
    assert wait_for_run(run, timeout=300).status == Run.Status.SUCCEEDED
    workers.start(1, **environment)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=20)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    print(f"machine: {machine()}")
    user, _ = get_user_model().objects.get_or_create(username="bench-recovery")
    Project.objects.filter(name="Bench recovery").delete()
    project = create_project(user, "Bench recovery")
    samples = []
    with (
        tempfile.TemporaryDirectory() as scratch,
        GeminiFake(Path(scratch), polls=2) as gemini,
        override_settings(PROVIDERS={**settings.PROVIDERS, "video": "veo"}),
    ):
        environment = {
            **DEFAULTS,
            "GEMINI_API_KEY": "bench-key",
            "GEMINI_BASE_URL": gemini.url,
            "REELGRAPH_VIDEO_PROVIDER": "veo",
            "REELGRAPH_VEO_POLL_SECONDS": "1",
        }
        workers = Workers()
        workers.start(2, **environment)
        try:
            for number in range(args.kills):
                samples.append(one_kill(project, user, gemini, workers, environment, number))
                print(f"kill {number + 1}: taken up again after {samples[-1]:.1f} s", flush=True)
        finally:
            workers.stop_all()
    print(
        f"kill to takeover over {len(samples)} kills: median {statistics.median(samples):.1f} s, "
        f"p90 {percentile(samples, 0.9):.1f} s, max {max(samples):.1f} s (goal: median <= 30 s)"
    )


if __name__ == "__main__":
    main()
