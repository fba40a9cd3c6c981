"""A bounded load test on loopback: 50 simulated users editing and running graphs for 60 s.

Ten projects of five members each (one owner, four editors), each a small film: two prompts, two
videos and a stitch, rendered by the offline providers. The app runs as `make run` runs it (daphne
and two RQ workers on the embedded PostgreSQL and Redis under var/bench). Every user is a thread
with its own token, choosing at random: edit a prompt's text (read it, then PATCH with the version
read), move a node, read the graph, or run the film. Afterwards the database is checked against
what the users were told: every accepted edit has its own version, each node ends at the newest
accepted one with its text, and every refused edit was a 409. Reports p50/p95 per request kind.

Run: .venv/bin/python -m bench.load [--users 50] [--seconds 60]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import threading
import time
from collections import defaultdict

import requests

from bench.common import machine, percentile, setup_django

setup_django()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402

from nodes.models import Node  # noqa: E402
from projects.models import Membership, Project  # noqa: E402
from projects.services import create_project  # noqa: E402
from projects.tokens import create_token  # noqa: E402
from tests.browser.harness import daphne  # noqa: E402
from tests.graphs import add, wire  # noqa: E402
from tests.workers import Workers  # noqa: E402

MEMBERS = 5


def build(users: int) -> tuple[list[tuple[str, str]], dict[str, list[str]]]:
    """(token, project id) per user, and each project's prompt node ids."""
    Project.objects.filter(name__startswith="Load test").delete()
    User = get_user_model()
    seats, prompts = [], {}
    for first in range(0, users, MEMBERS):
        members = [
            User.objects.get_or_create(username=f"load-{number}")[0]
            for number in range(first, min(users, first + MEMBERS))
        ]
        project = create_project(members[0], f"Load test {first // MEMBERS}")
        for member in members[1:]:
            Membership.objects.create(project=project, user=member, role=Membership.Role.EDITOR)
        stitch = add(project, "stitch", "Final")
        prompts[str(project.id)] = []
        for shot in range(2):
            prompt = add(project, "prompt", f"Line {shot}", text=f"Shot {shot}: a lighthouse")
            video = add(project, "video", f"Shot {shot}", duration_seconds=4)
            wire(prompt, "text", video, "prompt")
            wire(video, "video", stitch, "videos", order=shot)
            prompts[str(project.id)].append(str(prompt.id))
        seats += [(create_token(member, "load")[1], str(project.id)) for member in members]
    return seats, prompts


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.statuses: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self.accepted: dict[str, list[tuple[int, str | None]]] = defaultdict(list)  # node -> (version, text)
        self.errors: list[str] = []

    def record(self, kind: str, response: requests.Response, seconds: float) -> None:
        with self.lock:
            self.latency[kind].append(seconds)
            self.statuses[kind][response.status_code] += 1
            if response.status_code >= 500:
                self.errors.append(f"{kind} {response.status_code}: {response.text[:300]}")


def user(base: str, token: str, project_id: str, prompts: list[str], until: float, seed: int, rec: Recorder) -> None:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    rng = random.Random(seed)  # noqa: S311  (a workload, not a secret)
    api = f"{base}/api/v1"
    sequence = 0

    def call(kind, method, path, **kwargs):
        started = time.perf_counter()
        response = session.request(method, api + path, timeout=60, **kwargs)
        rec.record(kind, response, time.perf_counter() - started)
        return response

    while time.monotonic() < until:
        roll = rng.random()
        node_path = f"/projects/{project_id}/nodes/{rng.choice(prompts)}"
        if roll < 0.6:
            read = call("read node", "GET", node_path)
            if read.status_code != 200:
                continue
            sequence += 1
            text = f"{token[:6]}-{sequence}: a lighthouse in a storm"
            time.sleep(rng.uniform(0, 0.2))  # a person types; others may save meanwhile
            body = {"version": read.json()["version"], "params": {"text": text}}
            edit = call("edit (PATCH)", "PATCH", node_path, json=body)
            if edit.status_code == 200:
                with rec.lock:
                    rec.accepted[edit.json()["id"]].append((edit.json()["version"], text))
        elif roll < 0.75:
            read = call("read node", "GET", node_path)
            if read.status_code == 200:
                body = {"version": read.json()["version"], "x": rng.uniform(0, 900), "y": rng.uniform(0, 600)}
                move = call("move (PATCH)", "PATCH", node_path, json=body)
                if move.status_code == 200:
                    with rec.lock:
                        rec.accepted[move.json()["id"]].append((move.json()["version"], None))
        elif roll < 0.95:
            call("read graph", "GET", f"/projects/{project_id}/graph")
        else:
            call("run", "POST", f"/projects/{project_id}/runs", json={"targets": []})
        time.sleep(rng.uniform(0.05, 0.3))


def check(rec: Recorder) -> list[str]:
    """What the users were told against what the database holds."""
    problems = []
    for node_id, accepted in rec.accepted.items():
        versions = [version for version, _ in accepted]
        if len(versions) != len(set(versions)):
            problems.append(f"node {node_id}: a version was given to two accepted edits")
        node = Node.objects.get(pk=node_id)
        newest = max(accepted)
        if node.version != newest[0]:
            problems.append(f"node {node_id}: at version {node.version}, the newest accepted edit was {newest[0]}")
        texts = [(version, text) for version, text in accepted if text is not None]
        if texts and node.params.get("text") != max(texts)[1]:
            problems.append(f"node {node_id}: its text is not the newest accepted edit's")
    for kind in ("edit (PATCH)", "move (PATCH)"):
        refused = {status for status in rec.statuses[kind] if status != 200}
        if refused - {409}:
            problems.append(f"{kind}: refusals other than 409: {sorted(refused)}")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    seats, prompts = build(args.users)
    print(f"machine: {machine()}")
    environment = {**os.environ, "REELGRAPH_VAR_DIR": str(settings.VAR_DIR)}
    workers = Workers()
    workers.start(2, REELGRAPH_VAR_DIR=str(settings.VAR_DIR))
    rec = Recorder()
    try:
        with daphne(settings.BASE_DIR, environment, settings.VAR_DIR / "daphne-load.log") as base:
            until = time.monotonic() + args.seconds
            threads = [
                threading.Thread(target=user, args=(base, token, project, prompts[project], until, index, rec))
                for index, (token, project) in enumerate(seats)
            ]
            started = time.monotonic()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.monotonic() - started
    finally:
        workers.stop_all()
    total = sum(len(samples) for samples in rec.latency.values())
    print(f"{args.users} users, {elapsed:.0f} s, {total} requests ({total / elapsed:.0f}/s)")
    print("| request | count | p50 ms | p95 ms | statuses |")
    print("|---|---|---|---|---|")
    for kind, samples in sorted(rec.latency.items()):
        statuses = ", ".join(f"{status}: {count}" for status, count in sorted(rec.statuses[kind].items()))
        print(
            f"| {kind} | {len(samples)} | {statistics.median(samples) * 1000:.0f} | "
            f"{percentile(samples, 0.95) * 1000:.0f} | {statuses} |"
        )
    server_errors = sum(count for kinds in rec.statuses.values() for status, count in kinds.items() if status >= 500)
    problems = check(rec)
    accepted = sum(len(edits) for edits in rec.accepted.values())
    print(f"5xx: {server_errors}; accepted edits checked: {accepted}; problems: {len(problems)}")
    for line in rec.errors[:5] + problems[:20]:
        print("  " + line)


if __name__ == "__main__":
    main()
