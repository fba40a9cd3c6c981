"""The embedded PostgreSQL and Redis: shared by the processes of a checkout, stopped by the last one."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time

import psutil
import psycopg
import pytest
import redis
from django.conf import settings

pytestmark = pytest.mark.slow


class Holder:
    """A separate process using the embedded servers of one var folder."""

    everyone: list["Holder"] = []

    def __init__(self, var_dir):
        Holder.everyone.append(self)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.embedded_holder", str(var_dir)],
            cwd=settings.BASE_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.process.stdout.readline()
        assert line, f"holder exited with {self.process.wait()}"
        self.urls = json.loads(line)

    def leave(self):
        self.process.communicate("bye\n", timeout=60)
        assert self.process.returncode == 0


@pytest.fixture(autouse=True)
def no_holder_outlives_its_test():
    yield
    for holder in Holder.everyone:
        if holder.process.poll() is None:
            holder.leave()
    Holder.everyone.clear()


def server_processes(var_dir):
    """Every PostgreSQL or Redis process serving this var folder (postgres helpers included)."""
    redis_address = _redis_address_of(var_dir)
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        postmaster = "postgres" in cmdline and str(var_dir) in cmdline
        redis_server = "redis-server" in cmdline and redis_address is not None and redis_address in cmdline
        if postmaster or redis_server:
            with contextlib.suppress(psutil.Error):
                found += [process, *process.children(recursive=True)]
    return [p for p in found if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


def _redis_address_of(var_dir):
    port_file = var_dir / "redis" / "port"
    return f"127.0.0.1:{port_file.read_text()}" if port_file.exists() else None


def wait_for_no_servers(var_dir, timeout=60):
    # Bounded, not a timing claim: on a loaded machine (CI with a mutation run beside it) PostgreSQL
    # took more than 15 s to stop its nine processes.
    deadline = time.monotonic() + timeout
    while server_processes(var_dir) and time.monotonic() < deadline:
        time.sleep(0.1)
    return server_processes(var_dir)


def test_processes_share_the_servers_and_the_last_to_leave_stops_them(tmp_path):
    first = Holder(tmp_path)
    second = Holder(tmp_path)
    assert first.urls == second.urls
    assert redis.Redis.from_url(first.urls["redis"]).ping()

    first.leave()
    # The second process still holds them: both servers keep answering.
    assert redis.Redis.from_url(second.urls["redis"]).ping()
    with psycopg.connect(second.urls["postgres"]) as conn:
        vector = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'").fetchone()
        assert vector is not None

    second.leave()
    assert wait_for_no_servers(tmp_path) == []


def test_data_survives_a_restart(tmp_path):
    holder = Holder(tmp_path)
    with psycopg.connect(holder.urls["postgres"], autocommit=True) as conn:
        conn.execute("CREATE TABLE film (name text)")
        conn.execute("INSERT INTO film VALUES ('kept')")
    redis.Redis.from_url(holder.urls["redis"]).set("film", "kept")
    holder.leave()
    assert wait_for_no_servers(tmp_path) == []

    holder = Holder(tmp_path)
    with psycopg.connect(holder.urls["postgres"]) as conn:
        assert conn.execute("SELECT name FROM film").fetchall() == [("kept",)]
    assert redis.Redis.from_url(holder.urls["redis"]).get("film") == b"kept"
    holder.leave()


def test_a_terminated_process_still_stops_its_servers(tmp_path):
    holder = Holder(tmp_path)

    holder.process.send_signal(signal.SIGTERM)
    holder.process.wait(timeout=60)

    assert wait_for_no_servers(tmp_path) == []


def test_a_killed_process_does_not_keep_the_servers_alive_for_ever(tmp_path):
    killed = Holder(tmp_path)
    killed.process.kill()  # no chance to clean up: its servers stay up
    killed.process.wait()
    assert server_processes(tmp_path)

    survivor = Holder(tmp_path)  # joins the running servers, and knows the other handle is dead
    assert survivor.urls == killed.urls
    survivor.leave()

    assert wait_for_no_servers(tmp_path) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="the root-only path runs the server as a system user")
def test_as_root_postgres_runs_as_its_own_system_user(tmp_path):
    holder = Holder(tmp_path)
    try:
        postmasters = [p for p in server_processes(tmp_path) if "postgres" in p.name()]
        assert postmasters and {p.username() for p in postmasters} == {"pgserver"}
    finally:
        holder.leave()
