"""A job goes through the real Redis to a separate rqworker process, and the project hears about it."""

import os
import subprocess
import sys

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings
from django.db import connection

from generation.executor import enqueue_node
from generation.models import Job
from nodes.models import Node
from tests.factories import NodeFactory
from tests.websockets import headers_for, project_socket


def worker_database_url() -> str:
    """The URL of the database this test run uses (pytest-django's test_ copy), for other processes."""
    db = connection.settings_dict
    host = db["OPTIONS"].get("host") or db["HOST"]
    if host.startswith("/"):
        return f"postgresql://{db['USER']}@/{db['NAME']}?host={host}"
    return f"postgresql://{db['USER']}:{db['PASSWORD']}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


def run_worker_until_queues_are_empty(*queues: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": worker_database_url(), "REDIS_URL": settings.REDIS_URL}
    return subprocess.run(
        [sys.executable, "manage.py", "rqworker", "--burst", *queues],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.django_db(transaction=True)
def test_a_separate_worker_runs_the_job_and_the_project_sees_it_live(project, alice, redis):
    node = NodeFactory(project=project, params={"text": "A red kite over the dunes"})
    headers = headers_for(alice)

    async def scenario():
        socket = project_socket(project.id, headers)
        assert (await socket.connect())[0]
        assert (await socket.receive_json_from())["type"] == "graph.snapshot"

        job = await sync_to_async(enqueue_node)(node, alice)
        assert redis.llen("rq:queue:text") == 1  # really on the Redis queue, not run inline
        worker = await sync_to_async(run_worker_until_queues_are_empty)("text")

        statuses = []
        while not statuses or statuses[-1] not in ("succeeded", "failed"):
            event = await socket.receive_json_from(timeout=10)
            if event["type"] == "node.updated" and event["node"]["id"] == str(node.id):
                statuses.append(event["node"]["status"])
        last_event = event
        await socket.disconnect()
        return job, worker, statuses, last_event

    job, worker, statuses, last_event = async_to_sync(scenario)()

    assert worker.returncode == 0, worker.stderr
    job.refresh_from_db()
    node.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert job.attempts == 1
    assert job.started_at is not None and job.finished_at >= job.started_at
    assert node.status == Node.Status.SUCCEEDED
    assert node.output == {"text": "A red kite over the dunes"}
    assert statuses[0] == "queued" and "running" in statuses and statuses[-1] == "succeeded"
    assert last_event["node"]["output"] == {"text": "A red kite over the dunes"}
