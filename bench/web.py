"""The web tier on loopback: node PATCH latency under 32 concurrent clients, and how long a live event
takes from the process that sends it to a connected client.

- PATCH: 32 clients, each with its own token and its own node, move it as fast as they can for
  `--seconds` (no think time, so this is the tier at saturation); latency of every request.
- Events: a client holds the project's WebSocket open (as a canvas does, with a session cookie and an
  allowed Origin); this process sends `node.progress` events through `live.events.send`, the call
  workers make, carrying the time they were sent; latency is the time each one arrives. daphne serves
  both, as `make run` starts it.

Run: .venv/bin/python -m bench.web [--clients 32] [--seconds 20] [--events 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import threading
import time

import requests
import websockets

from bench.common import machine, percentile, setup_django

setup_django()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from live import events  # noqa: E402
from projects.models import Membership, Project  # noqa: E402
from projects.services import create_project  # noqa: E402
from projects.tokens import create_token  # noqa: E402
from tests.browser.harness import daphne  # noqa: E402
from tests.graphs import add  # noqa: E402


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p95, in milliseconds."""
    return statistics.median(samples) * 1000, percentile(samples, 0.95) * 1000


def patch_load(base: str, project: Project, clients: int, seconds: float) -> tuple[list[float], dict[int, int]]:
    User = get_user_model()
    seats = []
    for number in range(clients):
        user, _ = User.objects.get_or_create(username=f"bench-web-{number}")
        Membership.objects.get_or_create(project=project, user=user, defaults={"role": Membership.Role.EDITOR})
        node = add(project, "prompt", f"Client {number}", text="A harbour")
        seats.append((create_token(user, "bench")[1], str(node.id)))
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    until = time.monotonic() + seconds

    def client(token: str, node_id: str) -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        url = f"{base}/api/v1/projects/{project.id}/nodes/{node_id}"
        version = session.get(url, timeout=30).json()["version"]
        step = 0
        while time.monotonic() < until:
            step += 1
            started = time.perf_counter()
            response = session.patch(url, json={"version": version, "x": step % 900, "y": step % 600}, timeout=60)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if response.status_code == 200:
                version = response.json()["version"]

    threads = [threading.Thread(target=client, args=seat) for seat in seats]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, statuses


def event_latency(base: str, project: Project, owner, count: int) -> list[float]:
    browser = Client()
    browser.force_login(owner)
    cookie = f"sessionid={browser.cookies['sessionid'].value}"
    url = base.replace("http://", "ws://") + f"/ws/projects/{project.id}/"
    latencies: list[float] = []

    async def listen(ready: threading.Event, done: threading.Event) -> None:
        headers = {"Cookie": cookie, "Origin": base}
        async with websockets.connect(url, additional_headers=headers, max_size=None) as socket:
            ready.set()
            while len(latencies) < count:
                message = json.loads(await asyncio.wait_for(socket.recv(), timeout=30))
                if message["type"] == "node.progress" and message["label"].startswith("bench "):
                    latencies.append(time.time() - float(message["label"].split()[1]))
        done.set()

    ready, done = threading.Event(), threading.Event()
    listener = threading.Thread(target=lambda: asyncio.run(listen(ready, done)))
    listener.start()
    if not ready.wait(30):
        raise SystemExit("the WebSocket did not open")
    time.sleep(1)  # past the snapshot and the presence messages
    for number in range(count):
        event = {"type": "node.progress", "node_id": "-", "job_id": "-", "progress": number / count}
        events.send(project.id, event | {"label": f"bench {time.time():.6f}"})
        time.sleep(0.02)
    listener.join(60)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--events", type=int, default=200)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    print(f"machine: {machine()}")
    owner, _ = get_user_model().objects.get_or_create(username="bench-web-owner")
    Project.objects.filter(name="Bench web").delete()
    project = create_project(owner, "Bench web")
    environment = {**os.environ, "REELGRAPH_VAR_DIR": str(settings.VAR_DIR)}
    with daphne(settings.BASE_DIR, environment, settings.VAR_DIR / "daphne-web.log") as base:
        latencies, statuses = patch_load(base, project, args.clients, args.seconds)
        p50, p95 = percentiles(latencies)
        rate = len(latencies) / args.seconds
        print(
            f"PATCH, {args.clients} clients, {args.seconds:.0f} s: {len(latencies)} requests ({rate:.0f}/s), "
            f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, statuses {statuses}"
        )
        one, _ = patch_load(base, project, 1, 5)
        print(f"PATCH, 1 client, 5 s: {len(one)} requests, p50 {percentiles(one)[0]:.0f} ms")
        received = event_latency(base, project, owner, args.events)
        p50, p95 = percentiles(received)
        print(f"events: {len(received)} of {args.events} received, p50 {p50:.1f} ms, p95 {p95:.1f} ms (goal p50 <= 50)")


if __name__ == "__main__":
    main()
