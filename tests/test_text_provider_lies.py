"""Prompt enhancement when the provider lies: it does the work (and bills it), then answers late,
never, or with a server error. A user's run, through the API, on a real worker, through the real
openai and google-genai SDKs against the loopback fakes.

The policy for text differs from Veo's on purpose (docs/ARCHITECTURE.md, "Money"): an enhancement
costs a fraction of a cent and has no operation to resume, so a lost answer is treated like any
transient error and retried with the engine's backoff. A run of a Prompt node therefore pays for at
most 1 + len(REELGRAPH_RETRY_INTERVALS) requests (4 here), stores the answer that arrived as its
one take, and when every try was lost fails with the provider's words and the number of tries.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from generation import running
from generation.models import Job, Run
from generation.reconcile import reconcile
from tests.api import Api
from tests.fakes import gemini, openai
from tests.fakes.server import Accept, FakeServer
from tests.graphs import wait_for_run
from tests.workers import worker_environment

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

TRIES = 1 + len(worker_environment()["REELGRAPH_RETRY_INTERVALS"].split(","))  # the first and the retries


@dataclass
class TextService:
    label: str  # as the messages name it
    fake: FakeServer
    script: deque  # one entry per request: a text, or an Accept that lies about the text it made
    server_error: object  # the provider's own 500 body
    env: dict[str, str]


@pytest.fixture(params=["openai-responses", "openai-chat", "gemini"])
def service(request, tmp_path):
    if request.param == "gemini":
        with gemini.GeminiFake(tmp_path) as fake:
            yield TextService(
                "Gemini",
                fake,
                fake.texts,
                gemini.api_error(500, "Internal error encountered.", "INTERNAL"),
                {"GEMINI_API_KEY": "test-key", "GEMINI_BASE_URL": fake.url, "REELGRAPH_TEXT_PROVIDER": "gemini"},
            )
        return
    with openai.OpenAIFake() as fake:
        yield TextService(
            "OpenAI",
            fake,
            fake.answers,
            openai.api_error(500, "The server had an error while processing your request.", "server_error"),
            {
                "OPENAI_API_KEY": "sk-test",
                "OPENAI_BASE_URL": f"{fake.url}/v1",
                "OPENAI_API": request.param.removeprefix("openai-"),
                "REELGRAPH_TEXT_PROVIDER": "openai",
            },
        )


# Each lie: how the fake tells it, and what the user reads about it.
LIES = {
    "late": (lambda service: Accept(delay=3), "{label} did not answer within 1 s."),
    "dropped": (
        lambda service: Accept(drop=True),
        "The connection to {label} broke before it answered (RemoteProtocolError).",
    ),
    "server-error-after-the-work": (
        lambda service: Accept(fail=service.server_error),
        "{label} had a server error (500).",
    ),
}


def enhance_as_a_user(api: Api, project, text: str) -> tuple[dict, dict]:
    """Add a Prompt node that enhances, run it, and wait: the node and its job, as the API shows them."""
    node = api.post(f"/projects/{project.id}/nodes", {"type": "prompt", "params": {"text": text, "enhance": True}})
    assert node.status_code == 201, node.json()
    node_id = node.json()["id"]
    plan = api.post(f"/projects/{project.id}/runs", {"targets": [node_id]})
    assert plan.status_code == 200, plan.json()
    run_id = plan.json()["run"]["id"]
    wait_for_run(Run.objects.get(pk=run_id), timeout=90)
    (job,) = api.get(f"/runs/{run_id}").json()["jobs"]
    return api.get(f"/projects/{project.id}/nodes/{node_id}").json(), job


@pytest.mark.parametrize("lie", LIES)
def test_a_lie_is_retried_and_the_answer_that_arrives_is_the_one_take(project, alice, workers, service, lie):
    make_lie, _ = LIES[lie]
    service.script.extend([make_lie(service), "A red fox pads through deep snow, slow tracking shot."])
    workers.start(1, REELGRAPH_PROVIDER_TIMEOUT="1", **service.env)
    api = Api(alice)

    node, job = enhance_as_a_user(api, project, "a fox in the snow")

    assert (node["status"], job["status"], job["attempts"]) == ("succeeded", "succeeded", 2), workers.logs()
    billed = service.fake.billed("text")
    assert len(billed) == 2  # the lost answer was paid for too: the text policy allows up to TRIES
    assert node["output"] == {"text": billed[-1]} == {"text": "A red fox pads through deep snow, slow tracking shot."}
    (take,) = api.get(f"/projects/{project.id}/nodes/{node['id']}/takes").json()
    assert take["outputs"] == node["output"] and take["selected"]
    assert take["details"]["enhanced_by"]["provider"] == job["provider"] == service.env["REELGRAPH_TEXT_PROVIDER"]
    assert (job["error_message"], job["cost_actual"]) == ("", "0.0000")  # text costs are not counted as spend


@pytest.mark.parametrize("lie", LIES)
def test_a_provider_that_always_lies_is_paid_a_bounded_number_of_times_then_given_up(
    project, alice, workers, service, lie
):
    make_lie, message = LIES[lie]
    service.script.extend(make_lie(service) for _ in range(TRIES + 3))
    workers.start(1, REELGRAPH_PROVIDER_TIMEOUT="1", **service.env)
    api = Api(alice)

    node, job = enhance_as_a_user(api, project, "a lighthouse in a storm")

    said = message.format(label=service.label) + f" Gave up after {TRIES} attempts."
    assert (node["status"], node["error"]) == ("failed", said), workers.logs()
    assert (job["status"], job["error_message"], job["attempts"]) == ("failed", said, TRIES)
    assert api.get(f"/projects/{project.id}/nodes/{node['id']}/takes").json() == []
    assert node["output"] == {}
    # Nothing asks again on its own: not the reconciler, not a late delivery of the RQ job.
    reconcile()
    running.run_job(job["id"])
    assert len(service.fake.billed("text")) == len(service.fake.requests) == TRIES


def test_a_step_whose_worker_dies_every_time_is_not_queued_again_forever(project, alice, redis, settings):
    """RQ's retry budget starts afresh each time the reconciler queues a job again, so the bound is
    counted on the job: after 1 + len(RETRY_INTERVALS) attempts a dead worker's job fails, said plainly."""
    settings.RETRY_INTERVALS = [1, 1, 1]
    api = Api(alice)
    node = api.post(f"/projects/{project.id}/nodes", {"type": "prompt", "params": {"text": "a fox", "enhance": True}})
    run_id = api.post(f"/projects/{project.id}/runs", {"targets": [node.json()["id"]]}).json()["run"]["id"]
    job = Job.objects.get(run_id=run_id)

    requeued = 0
    for _ in range(10):  # bounded here too: without the fix it went on for ever
        if job.status != Job.Status.QUEUED:
            break
        # What a worker killed inside the step leaves: claimed, its lease run out, no operation.
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.RUNNING, attempts=F("attempts") + 1, lease_until=timezone.now() - timedelta(seconds=1)
        )
        requeued += reconcile()["requeued"]
        job.refresh_from_db()

    assert (requeued, job.attempts) == (3, 4)
    said = "Its worker stopped before it finished. Gave up after 4 attempts."
    assert (job.status, job.error_code, job.error_message) == (Job.Status.FAILED, "worker_lost", said)
    shown = api.get(f"/projects/{project.id}/nodes/{node.json()['id']}").json()
    assert (shown["status"], shown["error"]) == ("failed", said)
    assert api.get(f"/runs/{run_id}").json()["status"] == "failed"
