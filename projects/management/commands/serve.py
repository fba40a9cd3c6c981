"""The development run command: everything Reelgraph needs, in one terminal, stopped by one Ctrl-C."""

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from generation.providers import status
from projects.services import DEMO_PASSWORD, DEMO_USERNAME, ensure_demo_user

SHUTDOWN_GRACE_SECONDS = 30
PR_SET_PDEATHSIG = 1


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
        try:
            self._wait_for_port(host, port, children)
            self._print_banner(host, port, workers)
            failed = self._wait_for_first_exit(children)
        except KeyboardInterrupt:
            failed = None
            self.stdout.write("\nStopping Reelgraph…")
        finally:
            self._stop(children)
        if failed is not None:
            raise CommandError(f"{failed.args[0]} exited with status {failed.returncode}; stopped everything.")
        self.stdout.write("Stopped.")

    def _start_children(self, host: str, port: int, workers: int) -> list[subprocess.Popen]:
        # Children get the resolved URLs, so they use the embedded servers this process runs
        # instead of starting (and later stopping) their own.
        env = {**os.environ, "DATABASE_URL": settings.DATABASE_URL, "REDIS_URL": settings.REDIS_URL}
        commands = [[sys.executable, "-m", "daphne", "-b", host, "-p", str(port), "config.asgi:application"]]
        commands += [[sys.executable, "manage.py", "rqworker", "--with-scheduler", *settings.RQ_QUEUE_NAMES]] * workers
        # Own sessions: a Ctrl-C reaches only this process, which then stops the children in order.
        return [
            subprocess.Popen(
                command, env=env, cwd=settings.BASE_DIR, start_new_session=True, preexec_fn=_die_with_parent
            )
            for command in commands
        ]

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
    def _wait_for_first_exit(children: list[subprocess.Popen]) -> subprocess.Popen:
        while True:
            for child in children:
                if child.poll() is not None:
                    return child
            time.sleep(0.5)

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
