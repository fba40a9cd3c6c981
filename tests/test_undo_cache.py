"""Spend safety: going back to earlier settings uses the take they made instead of paying again; a card
says when its output no longer matches its inputs; a re-roll makes a new take of exactly its targets."""

import pytest

from generation import running
from generation.models import Job, Run
from nodes.models import Node
from providers.local_video import submit_count
from tests.api import Api

pytestmark = pytest.mark.django_db


class Studio:
    """A prompt wired into a 4 s video, edited and run through the API, jobs run in this process."""

    def __init__(self, user, project):
        self.api, self.project = Api(user), project
        base = f"/projects/{project.id}"
        self.prompt = self.api.post(f"{base}/nodes", {"type": "prompt", "params": {"text": "A lighthouse"}}).json()
        self.video = self.api.post(f"{base}/nodes", {"type": "video", "params": {"duration_seconds": 4}}).json()
        edge = {"source": self.prompt["id"], "source_port": "text", "target": self.video["id"], "target_port": "prompt"}
        assert self.api.post(f"{base}/edges", edge).status_code == 201

    def node(self, node) -> dict:
        return self.api.get(f"/projects/{self.project.id}/nodes/{node['id']}").json()

    def write_prompt(self, text: str) -> None:
        current = self.node(self.prompt)
        body = {"version": current["version"], "params": {"text": text}}
        assert self.api.patch(f"/projects/{self.project.id}/nodes/{current['id']}", body).status_code == 200

    def plan(self, **options) -> dict:
        body = {"targets": [self.video["id"]], "dry_run": True, **options}
        return self.api.post(f"/projects/{self.project.id}/runs", body).json()

    def run(self, **options) -> Run:
        body = {"targets": [self.video["id"]], **options}
        started = self.api.post(f"/projects/{self.project.id}/runs", body).json()
        run = Run.objects.get(pk=started["run"]["id"])
        for job in Job.objects.filter(run=run).order_by("created_at"):
            running.run_job(str(job.id))
            job.refresh_from_db()
            if job.provider_operation:
                running.poll_job(str(job.id))  # the offline renderer has it ready at once
        run.refresh_from_db()
        return run

    def actions(self, plan) -> dict[str, tuple]:
        by_id = {self.prompt["id"]: "prompt", self.video["id"]: "video"}
        return {by_id[entry["node"]]: (entry["action"], entry["reason"], entry["take"]) for entry in plan["nodes"]}


@pytest.fixture
def studio(alice, project, redis):
    made = Studio(alice, project)
    assert made.run().status == Run.Status.SUCCEEDED
    return made


def test_going_back_to_an_earlier_prompt_uses_its_takes_and_pays_nothing(studio):
    first_video = studio.node(studio.video)["output"]
    studio.write_prompt("A storm over the sea")
    assert studio.run().status == Run.Status.SUCCEEDED
    assert studio.node(studio.video)["selected_take"]["number"] == 2

    studio.write_prompt("A lighthouse")
    plan = studio.plan()

    assert studio.actions(plan) == {
        "prompt": ("cached", "cached (take 1)", 1),
        "video": ("cached", "cached (take 1)", 1),
    }
    assert plan["cost_estimate"] == "0"
    assert studio.node(studio.video)["selected_take"]["number"] == 2  # a dry run changes nothing
    submits = submit_count("local")

    run = studio.run()

    assert run.jobs.count() == 0 and run.status == Run.Status.SUCCEEDED
    assert submit_count("local") == submits  # no provider was called
    video = studio.node(studio.video)
    assert video["selected_take"]["number"] == 1 and video["output"] == first_video
    assert Node.objects.get(pk=video["id"]).takes.count() == 2
    assert not video["outdated"]


def test_a_changed_input_makes_the_node_and_what_follows_outdated(studio):
    assert not studio.node(studio.prompt)["outdated"] and not studio.node(studio.video)["outdated"]

    studio.write_prompt("A storm over the sea")

    assert studio.node(studio.prompt)["outdated"] and studio.node(studio.video)["outdated"]
    graph = studio.api.get(f"/projects/{studio.project.id}/graph").json()
    assert {node["id"]: node["outdated"] for node in graph["nodes"]} == {
        studio.prompt["id"]: True,
        studio.video["id"]: True,
    }
    assert studio.run().status == Run.Status.SUCCEEDED
    assert not studio.node(studio.prompt)["outdated"] and not studio.node(studio.video)["outdated"]


def test_a_re_roll_is_priced_first_and_makes_a_new_take_of_the_target_only(studio):
    submits = submit_count("local")

    priced = studio.plan(force=True)

    assert studio.actions(priced) == {
        "prompt": ("cached", "unchanged", 1),
        "video": ("run", "run again on request", None),
    }
    first_run = Run.objects.filter(project=studio.project).earliest("created_at")
    first_price = next(entry["cost"] for entry in first_run.plan if entry["node"] == studio.video["id"])
    assert priced["cost_estimate"] == first_price  # the price of making the video again, shown before
    assert submit_count("local") == submits
    run = studio.run(force=True)

    assert run.status == Run.Status.SUCCEEDED
    assert [job.node_id for job in run.jobs.all()] == [Node.objects.get(pk=studio.video["id"]).pk]
    assert submit_count("local") == submits + 1
    assert studio.node(studio.video)["selected_take"]["number"] == 2
    assert studio.node(studio.prompt)["selected_take"]["number"] == 1
