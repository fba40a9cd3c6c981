"""`manage.py serve` keeps the app up when one of its workers dies: the worker comes back, daphne
keeps answering, and a run started before the death completes. On the test database and Redis."""

import contextlib
import re
import signal
import subprocess
import sys
import threading

import psutil
import pytest
import requests
from django.conf import settings

from generation.models import Job, Run
from generation.planning import plan_run
from tests.graphs import text_to_video, wait_for_run
from tests.test_run_command import free_port
from tests.workers import wait_for, worker_environment

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


class Serve:
    def __init__(self, **env: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--port", str(self.port), "--workers", "2"],
            cwd=settings.BASE_DIR,
            env=worker_environment(**env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    def output(self) -> str:
        return "".join(self.lines)

    def workers(self) -> list[psutil.Process]:
        """The RQ worker processes serve started (not their schedulers or work horses): its children
        other than daphne (RQ retitles its processes, so their command lines do not say rqworker)."""
        workers = []
        for child in psutil.Process(self.process.pid).children():
            with contextlib.suppress(psutil.ZombieProcess, psutil.NoSuchProcess):  # dead, not yet reaped
                if "daphne" not in " ".join(child.cmdline()):
                    workers.append(child)
        return workers

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=60)


def kill_with_descendants(process: psutil.Process) -> None:
    for doomed in [*process.children(recursive=True), process]:
        doomed.kill()


def test_serve_restarts_a_dead_worker_while_daphne_and_the_other_worker_stay_up(project, alice, redis):
    _, video = text_to_video(project, "Across a restart")
    serve = Serve(REELGRAPH_VIDEO_PROVIDER="simulated", REELGRAPH_SIMULATED_LATENCY="8")
    try:
        wait_for(lambda: "Press Ctrl-C to stop." in serve.output(), timeout=120, message="serve's banner")
        (daphne,) = [p for p in psutil.Process(serve.process.pid).children() if "daphne" in " ".join(p.cmdline())]
        run = plan_run(project, [video.id], user=alice).run
        wait_for(
            lambda: Job.objects.filter(run=run, node=video).exclude(provider_operation="").exists(),
            timeout=60,
            message="the video to be submitted",
        )
        first, second = serve.workers()

        kill_with_descendants(first)

        wait_for(
            lambda: len(serve.workers()) == 2 and first.pid not in {w.pid for w in serve.workers()},
            timeout=60,
            message="serve to start a worker in place of the dead one",
        )
        # The line reaches us through a pipe and a reader thread, maybe after the new worker is seen.
        wait_for(
            lambda: re.search(r"worker \d exited with status -9 after \d+ s; restarting it in \d+ s", serve.output()),
            timeout=30,
            message="serve to say which worker died and how",
        )
        assert second.is_running() and daphne.is_running()  # nothing else was stopped
        assert requests.get(f"{serve.base}/api/v1/health", timeout=10).status_code == 200
        assert wait_for_run(run, timeout=120).status == Run.Status.SUCCEEDED
    finally:
        exit_code = serve.stop()
    assert exit_code == 0, serve.output()
