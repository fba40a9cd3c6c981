"""The development run command: everything Reelgraph needs, in one terminal, stopped by one Ctrl-C.

A child that dies (an RQ worker killed, daphne crashing) is started again after a backoff while the
others keep running; the command gives up, stopping everything, only when one keeps dying quickly.
"""

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from projects.services import DEMO_PASSWORD, DEMO_USERNAME, ensure_demo_user
from providers import status

SHUTDOWN_GRACE_SECONDS = 30
PR_SET_PDEATHSIG = 1
# Seconds before restarting a child after its 1st, 2nd, … quick death in a row.
RESTART_BACKOFF = (1, 2, 5, 10, 30)
# A child that ran this long before dying was healthy: its next restart is immediate again.
HEALTHY_SECONDS = 60


@dataclass
class Child:
    name: str
    command: list[str]
    env: dict[str, str]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    quick_deaths: int = 0
    restart_at: float | None = None

    def start(self) -> None:
        # Own session: a Ctrl-C reaches only the supervisor, which then stops the children in order.
        self.process = subprocess.Popen(
            self.command, env=self.env, cwd=settings.BASE_DIR, start_new_session=True, preexec_fn=_die_with_parent
        )
        self.started_at, self.restart_at = time.monotonic(), None

    def died(self) -> bool:
        return self.restart_at is None and self.process.poll() is not None


def _die_with_parent() -> None:
    """Runs in each child before exec: if this supervisor is killed outright, its children get SIGTERM."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Command(BaseCommand):
    help = (
        "Migrate, create the demo login (development only), then run daphne (HTTP + WebSocket) and "
        "RQ workers with the scheduler until Ctrl-C. The embedded PostgreSQL and Redis, if used, stop last."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("RQ_WORKERS", "2")))

    def handle(self, *args, host: str, port: int, workers: int, **options) -> None:
        # A shell starts background jobs with SIGINT ignored; Ctrl-C and `kill -INT` must always stop us.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        call_command("migrate", interactive=False, verbosity=0)
        if settings.DEMO_USER_ENABLED:
            ensure_demo_user()
        children = self._start_children(host, port, workers)
        processes = [child.process for child in children]
        try:
            self._wait_for_port(host, port, processes)
            self._print_banner(host, port, workers)
            failed = self._supervise(children)
        except KeyboardInterrupt:
            failed = None
            self.stdout.write("\nStopping Reelgraph…")
        finally:
            self._stop([child.process for child in children])
        if failed is not None:
            raise CommandError(
                f"{failed.name} kept dying (last status {failed.process.returncode}, "
                f"{len(RESTART_BACKOFF)} quick restarts); stopped everything."
            )
        self.stdout.write("Stopped.")

    def _start_children(self, host: str, port: int, workers: int) -> list[Child]:
        # Children get the resolved URLs, so they use the embedded servers this process runs
        # instead of starting (and later stopping) their own.
        env = {**os.environ, "DATABASE_URL": settings.DATABASE_URL, "REDIS_URL": settings.REDIS_URL}
        daphne = [sys.executable, "-m", "daphne", "-b", host, "-p", str(port), "config.asgi:application"]
        worker = [sys.executable, "manage.py", "rqworker", "--with-scheduler", *settings.RQ_QUEUE_NAMES]
        children = [Child("daphne", daphne, env)]
        children += [Child(f"worker {number}", worker, env) for number in range(1, workers + 1)]
        for child in children:
            child.start()
        return children

    def _supervise(self, children: list[Child]) -> Child:
        """Restart whatever dies, after a backoff that grows while it keeps dying quickly; returns
        the child that died once too often."""
        while True:
            now = time.monotonic()
            for child in children:
                if child.died():
                    lived = now - child.started_at
                    child.quick_deaths = 0 if lived >= HEALTHY_SECONDS else child.quick_deaths + 1
                    if child.quick_deaths > len(RESTART_BACKOFF):
                        return child
                    delay = RESTART_BACKOFF[max(0, child.quick_deaths - 1)] if child.quick_deaths else 0
                    self.stderr.write(
                        f"{child.name} exited with status {child.process.returncode} after {lived:.0f} s; "
                        f"restarting it in {delay} s (the rest keeps running)."
                    )
                    child.restart_at = now + delay
                elif child.restart_at is not None and now >= child.restart_at:
                    child.start()
                    self.stdout.write(f"{child.name} restarted.")
            time.sleep(0.5)

    def _print_banner(self, host: str, port: int, workers: int) -> None:
        lines = [
            "",
            f"Reelgraph is running at http://{host}:{port}/",
            f"  {workers} RQ worker(s) on queues {', '.join(settings.RQ_QUEUE_NAMES)}",
            "  providers: "
            + ", ".join(
                f"{row['capability']}={row['provider']}{'' if row['ok'] else ' (cannot work)'}" for row in status()
            ),
        ]
        if settings.DEMO_USER_ENABLED:
            lines.append(f"  log in as {DEMO_USERNAME} / {DEMO_PASSWORD}")
        lines.append("Press Ctrl-C to stop.\n")
        self.stdout.write(self.style.SUCCESS("\n".join(lines)))

    @staticmethod
    def _wait_for_port(host: str, port: int, children: list[subprocess.Popen]) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and all(child.poll() is None for child in children):
            with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
                return
            time.sleep(0.2)

    @staticmethod
    def _stop(children: list[subprocess.Popen]) -> None:
        # SIGTERM is a warm shutdown for RQ workers (the current job finishes) and a clean one for daphne.
        for child in children:
            if child.poll() is None:
                child.terminate()
        deadline = time.monotonic() + SHUTDOWN_GRACE_SECONDS
        try:
            for child in children:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except (subprocess.TimeoutExpired, KeyboardInterrupt):
            pass  # out of patience, or a second Ctrl-C: stop what is left now
        finally:
            for child in children:
                if child.poll() is None:
                    child.kill()
                    child.wait()
