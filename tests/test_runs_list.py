"""The runs panel's list: a project's runs, newest first, each with its jobs."""

import pytest

from generation import running
from generation.models import Job, Run
from projects.models import Membership
from tests.api import Api

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(alice, settings):
    settings.RUN_RATE_LIMIT = None
    return Api(alice)


def start(api, project, node_id, **options) -> str:
    body = {"targets": [node_id], **options}
    return api.post(f"/projects/{project.id}/runs", body).json()["run"]["id"]


def finish(run_id: str) -> str:
    running.run_job(str(Job.objects.get(run_id=run_id).id))
    return run_id


def test_runs_are_listed_newest_first_twenty_a_page_with_their_jobs(api, project):
    node = api.post(f"/projects/{project.id}/nodes", {"type": "prompt", "title": "Line", "params": {"text": "A"}})
    node_id = node.json()["id"]
    first = finish(start(api, project, node_id))
    later = [finish(start(api, project, node_id, force=True)) for _ in range(20)]
    later.append(start(api, project, node_id, force=True))  # still running

    page_one = api.get(f"/projects/{project.id}/runs").json()
    page_two = api.get(f"/projects/{project.id}/runs", page=2).json()

    assert page_one["count"] == page_two["count"] == 22
    assert [run["id"] for run in page_one["items"] + page_two["items"]] == [*reversed(later), first]
    done = page_two["items"][-1]
    assert (done["status"], done["created_by"], done["cost_actual"]) == ("succeeded", "alice", "0")
    assert done["duration_seconds"] is not None and done["duration_seconds"] >= 0
    assert [(job["node_title"], job["status"], job["progress"]) for job in done["jobs"]] == [("Line", "succeeded", 1.0)]
    waiting = page_one["items"][0]
    assert waiting["status"] == "running" and waiting["duration_seconds"] is None
    assert [job["status"] for job in waiting["jobs"]] == ["queued"]


def test_members_see_the_runs_and_others_get_a_404(api, project, bob, add_member):
    node = api.post(f"/projects/{project.id}/nodes", {"type": "prompt", "params": {"text": "A"}}).json()["id"]
    start(api, project, node)

    assert Api(bob).get(f"/projects/{project.id}/runs").status_code == 404
    add_member(bob, Membership.Role.VIEWER)
    assert Api(bob).get(f"/projects/{project.id}/runs").json()["count"] == Run.objects.count() == 1
    assert api.get(f"/projects/{project.id}/runs", page=0).status_code == 422
