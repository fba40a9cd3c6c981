"""The README's run command, end to end: it serves, logs in demo/demo, stops cleanly and keeps data."""

import os
import re
import signal
import subprocess
import sys
import time

import psutil
import pytest
import requests
from django.conf import settings

from tests.test_embedded import server_processes, wait_for_no_servers

pytestmark = pytest.mark.slow


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fresh_environment(var_dir) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")}
    return env | {"REELGRAPH_VAR_DIR": str(var_dir), "DJANGO_ENV": "development"}


class RunningApp:
    def __init__(self, var_dir):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = fresh_environment(var_dir)
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--port", str(self.port), "--workers", "1"],
            cwd=settings.BASE_DIR,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.banner = self._read_until("Press Ctrl-C to stop.")

    def _read_until(self, marker: str, timeout: float = 180) -> str:
        lines, deadline = [], time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                raise AssertionError("the run command exited early:\n" + "".join(lines))
            lines.append(line)
            if marker in line:
                return "".join(lines)
        raise AssertionError("no banner in time:\n" + "".join(lines))

    def login(self, username: str, password: str, path: str = "/accounts/login/") -> requests.Session:
        session = requests.Session()
        page = session.get(self.base + path, timeout=10)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        session.post(
            self.base + path,
            data={"username": username, "password": password, "csrfmiddlewaretoken": token},
            headers={"Referer": self.base + path},
            timeout=10,
        )
        return session

    def descendants(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children(recursive=True)

    def ctrl_c(self) -> int:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        finally:
            self.process.stdout.close()
        return self.process.returncode


def test_the_run_command_serves_logs_in_demo_stops_cleanly_and_keeps_data(tmp_path):
    app = RunningApp(tmp_path)
    try:
        assert f"Reelgraph is running at {app.base}/" in app.banner
        assert "log in as demo / demo" in app.banner

        home = requests.get(app.base + "/", timeout=10)
        assert home.url == app.base + "/accounts/login/"
        assert "Log in to Reelgraph" in home.text

        demo = app.login("demo", "demo")
        projects = demo.get(app.base + "/projects/", timeout=10)
        assert projects.url == app.base + "/projects/" and "My first film" in projects.text
        token = demo.cookies["csrftoken"]
        demo.post(
            app.base + "/projects/",
            data={"name": "Kept across restarts", "csrfmiddlewaretoken": token},
            headers={"Referer": app.base + "/projects/"},
            timeout=10,
        )

        # The README's way to make an admin, run beside the live app (it joins the same servers).
        subprocess.run(
            [sys.executable, "manage.py", "createsuperuser", "--no-input", "--username=boss", "--email="],
            cwd=settings.BASE_DIR,
            env=app.env | {"DJANGO_SUPERUSER_PASSWORD": "boss-password-1"},
            check=True,
            timeout=60,
        )
        admin = app.login("boss", "boss-password-1", path="/admin/login/")
        assert "Site administration" in admin.get(app.base + "/admin/", timeout=10).text

        children = app.descendants()
        assert len(children) >= 3  # daphne and a worker (with its scheduler), at least
    finally:
        exit_code = app.ctrl_c()

    assert exit_code == 0
    assert not [child for child in children if child.is_running() and child.status() != psutil.STATUS_ZOMBIE]
    assert wait_for_no_servers(tmp_path) == []

    again = RunningApp(tmp_path)
    try:
        projects = again.login("demo", "demo").get(again.base + "/projects/", timeout=10)
        assert "Kept across restarts" in projects.text
    finally:
        assert again.ctrl_c() == 0
    assert server_processes(tmp_path) == [] or wait_for_no_servers(tmp_path) == []
