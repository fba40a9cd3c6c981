"""Real RQ worker processes for tests: the same command as production, on the test database and Redis."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

QUEUES = settings.RQ_QUEUE_NAMES


def test_database_url() -> str:
    """The URL of the database this test run uses (pytest-django's test_ copy), for other processes."""
    db = connection.settings_dict
    host = db["OPTIONS"].get("host") or db["HOST"]
    if host.startswith("/"):
        return f"postgresql://{db['USER']}@/{db['NAME']}?host={host}"
    return f"postgresql://{db['USER']}:{db['PASSWORD']}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


def worker_environment(**overrides: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "REELGRAPH_RQ_MAINTENANCE_SECONDS": "3",
        "REELGRAPH_RETRY_INTERVALS": "1,1,1",
        **overrides,
    }


class WorkerProcess:
    def __init__(self, name: str, env: dict[str, str], *, burst: bool = False) -> None:
        command = [sys.executable, "manage.py", "rqworker", "--with-scheduler", "--name", name, *QUEUES]
        if burst:
            command.append("--burst")
        self.name = name
        self.log_path = settings.VAR_DIR / f"worker-{name}.log"
        self.log = self.log_path.open("w")
        # Its own process group: a test can kill the worker, its scheduler and its job at once.
        self.process = subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def kill(self) -> None:
        """As if the machine died: SIGKILL to the worker, its scheduler and whatever job it runs (RQ
        starts each job's work horse in a session of its own, so the process group alone misses it)."""
        doomed = descendants(self.process.pid)
        os.killpg(self.process.pid, signal.SIGKILL)
        for pid in doomed:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait()

    def stop(self, timeout: float = 30) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()

    def output(self) -> str:
        return self.log_path.read_text()


def descendants(pid: int) -> list[int]:
    """The processes started, directly or not, by `pid` (from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, pending = [], [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


class Workers:
    def __init__(self) -> None:
        self.started: list[WorkerProcess] = []

    def start(self, count: int = 1, **env: str) -> list[WorkerProcess]:
        environment = worker_environment(**env)
        new = [WorkerProcess(f"w{len(self.started) + i}-{os.getpid()}", environment) for i in range(count)]
        self.started += new
        return new

    def stop_all(self) -> None:
        for worker in self.started:
            worker.stop()

    def logs(self) -> str:
        return "\n".join(f"--- {w.name}\n{w.output()[-4000:]}" for w in self.started)


def wait_for(predicate, *, timeout: float = 120, interval: float = 0.2, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {message}")


def holds(predicate, *, seconds: float = 1.0, interval: float = 0.1, message: str = "condition") -> None:
    """A negative check, polled for a bounded time: the predicate stays true throughout."""
    deadline = time.monotonic() + seconds
    while True:
        assert predicate(), f"{message} stopped holding"
        if time.monotonic() >= deadline:
            return
        time.sleep(interval)
