import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from characters.models import Character
from generation.models import Job, Run
from nodes.models import Take
from projects.models import Membership
from tests.api import Api, error_of
from tests.factories import ProjectFactory
from tests.graphs import FIXTURES, add, upload, wait_for_run, wire
from tests.unchanged import changes_since, snapshot

pytestmark = pytest.mark.django_db


def enqueued(redis) -> list[bytes]:
    """The RQ jobs in Redis: what a worker would pick up."""
    return sorted(redis.keys("rq:job:*"))


def prompt_to_video(project):
    prompt, video = (
        add(project, "prompt", "Line", text="A lighthouse"),
        add(project, "video", "Shot", duration_seconds=4),
    )
    wire(prompt, "text", video, "prompt")
    return prompt, video


def test_a_dry_run_returns_the_plan_and_enqueues_nothing(alice, project, redis):
    prompt, video = prompt_to_video(project)

    response = Api(alice).post(f"/projects/{project.id}/runs", {"targets": [str(video.id)], "dry_run": True})

    assert response.status_code == 200
    plan = response.json()
    assert plan["dry_run"] is True and plan["run"] is None and plan["cost_estimate"] == "0"
    assert [(n["node"], n["action"]) for n in plan["nodes"]] == [(str(prompt.id), "run"), (str(video.id), "run")]
    assert not Job.objects.exists() and redis.llen("rq:queue:text") == 0
    assert not Run.objects.exists() and enqueued(redis) == []


def test_a_run_starts_and_can_be_read_and_canceled(alice, project, redis, django_capture_on_commit_callbacks):
    prompt_to_video(project)
    api = Api(alice)

    with django_capture_on_commit_callbacks(execute=True):
        started = api.post(f"/projects/{project.id}/runs", {"targets": []}).json()

    run_id = started["run"]["id"]
    assert started["run"]["status"] == "running" and len(started["run"]["jobs"]) == 2
    assert api.get(f"/runs/{run_id}").json()["id"] == run_id
    canceled = api.post(f"/runs/{run_id}/cancel")
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    assert {job["status"] for job in canceled.json()["jobs"]} == {"canceled"}
    assert Run.objects.get(pk=run_id).status == Run.Status.CANCELED
    assert set(Job.objects.filter(run_id=run_id).values_list("status", flat=True)) == {Job.Status.CANCELED}


def test_an_invalid_graph_is_a_422_with_every_problem_per_node(alice, project, redis):
    empty = add(project, "prompt", "Empty", text="")
    lonely = add(project, "video", "No prompt")
    before = snapshot()

    response = Api(alice).post(f"/projects/{project.id}/runs", {"targets": []})

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "graph_invalid"
    assert error["details"]["nodes"][str(empty.id)][0]["field"] == "text"
    assert error["details"]["nodes"][str(lonely.id)][0]["port"] == "prompt"
    assert not Run.objects.exists()
    assert changes_since(before) == {} and enqueued(redis) == []  # no job, no node marked queued


def test_jobs_are_listed_filtered_and_read(alice, project, redis):
    prompt, video = prompt_to_video(project)
    api = Api(alice)
    api.post(f"/projects/{project.id}/runs", {"targets": [str(video.id)]})

    everything = api.get("/jobs").json()
    assert everything["count"] == 2
    queued = api.get("/jobs", project=str(project.id), status="queued", node=str(prompt.id)).json()
    assert [job["node"] for job in queued["items"]] == [str(prompt.id)]
    job = api.get(f"/jobs/{queued['items'][0]['id']}").json()
    assert job["status"] == "queued" and job["cost_estimate"] == "0.0000"


def test_a_job_is_canceled_and_retried(alice, project, redis):
    prompt, _ = prompt_to_video(project)
    api = Api(alice)
    api.post(f"/projects/{project.id}/runs", {"targets": [str(prompt.id)]})
    job_id = api.get("/jobs").json()["items"][0]["id"]

    assert api.post(f"/jobs/{job_id}/cancel").json()["status"] == "canceled"
    assert Job.objects.get(pk=job_id).status == Job.Status.CANCELED
    retried = api.post(f"/jobs/{job_id}/retry")

    assert retried.status_code == 200
    assert retried.json()["run"]["status"] == "running" and retried.json()["nodes"][0]["action"] == "run"
    again = Job.objects.get(run_id=retried.json()["run"]["id"])  # a new run with a new job for the prompt
    assert (again.node_id, again.status, str(again.id) != job_id) == (prompt.id, Job.Status.QUEUED, True)


def test_outsiders_see_no_runs_or_jobs_and_viewers_cannot_start_or_stop_them(alice, bob, project, add_member, redis):
    _, video = prompt_to_video(project)
    api = Api(alice)
    run_id = api.post(f"/projects/{project.id}/runs", {"targets": [str(video.id)]}).json()["run"]["id"]
    job_id = api.get("/jobs").json()["items"][0]["id"]
    before, queued = snapshot(), enqueued(redis)

    outsider = Api(bob)
    assert outsider.get(f"/runs/{run_id}").status_code == 404
    assert outsider.get(f"/jobs/{job_id}").status_code == 404
    assert outsider.get("/jobs").json()["count"] == 0
    started = outsider.post(f"/projects/{project.id}/runs", {"targets": []})
    assert started.status_code == 404 and error_of(started)["code"] == "not_found"
    for response in (outsider.post(f"/runs/{run_id}/cancel"), outsider.post(f"/jobs/{job_id}/retry")):
        assert response.status_code == 404
    assert changes_since(before) == {} and enqueued(redis) == queued

    add_member(bob, Membership.Role.VIEWER)
    before = snapshot()
    viewer = Api(bob)
    assert viewer.get(f"/runs/{run_id}").status_code == 200
    for response in (
        viewer.post(f"/projects/{project.id}/runs", {"targets": []}),
        viewer.post(f"/runs/{run_id}/cancel"),
        viewer.post(f"/jobs/{job_id}/cancel"),
        viewer.post(f"/jobs/{job_id}/retry"),
    ):
        assert response.status_code == 403
        assert error_of(response)["code"] == "forbidden"
    assert Run.objects.get(pk=run_id).status == "running"
    assert changes_since(before) == {}  # no run started or canceled, no job canceled or retried
    assert enqueued(redis) == queued  # and nothing more for a worker to pick up


def test_takes_are_listed_and_one_is_selected(alice, project, bob):
    prompt = add(project, "prompt", "Line", text="now")
    old = Take.objects.create(
        node=prompt, number=1, cache_key="a" * 64, params={"text": "before"}, outputs={"text": "before"}
    )
    new = Take.objects.create(
        node=prompt, number=2, cache_key="b" * 64, params={"text": "now"}, outputs={"text": "now"}
    )
    prompt.selected_take = new
    prompt.save()
    api = Api(alice)

    takes = api.get(f"/projects/{project.id}/nodes/{prompt.id}/takes").json()
    assert [(t["number"], t["selected"]) for t in takes] == [(2, True), (1, False)]
    selected = api.post(f"/projects/{project.id}/nodes/{prompt.id}/takes/{old.id}/select").json()
    assert selected["params"] == {"text": "before"} and selected["output"] == {"text": "before"}
    prompt.refresh_from_db()
    assert (prompt.selected_take_id, prompt.params, prompt.output) == (old.id, {"text": "before"}, {"text": "before"})
    before = snapshot()
    assert Api(bob).get(f"/projects/{project.id}/nodes/{prompt.id}/takes").status_code == 404
    assert Api(bob).post(f"/projects/{project.id}/nodes/{prompt.id}/takes/{new.id}/select").status_code == 404
    assert changes_since(before) == {}


def character(owner, name, vector):
    return Character.objects.create(
        owner=owner, name=name, embedding=vector, embedding_model="local:opencv-haar-frontalface"
    )


def test_characters_are_listed_renamed_compared_and_deleted(alice, bob):
    first = character(alice, "Ana", [1.0] + [0.0] * 511)
    character(alice, "Ana again", [0.9, 0.1] + [0.0] * 510)
    character(alice, "Someone else", [0.0, 1.0] + [0.0] * 510)
    theirs = character(bob, "Bob's", [1.0] + [0.0] * 511)
    api = Api(alice)

    listed = api.get("/characters").json()
    assert listed["count"] == 3 and {c["name"] for c in listed["items"]} == {"Ana", "Ana again", "Someone else"}
    assert listed["items"][0]["approximate"] is True
    similar = api.get(f"/characters/{first.id}/similar", k=2).json()
    assert [s["character"]["name"] for s in similar] == ["Ana again", "Someone else"]
    assert similar[0]["similarity"] > 0.99
    assert api.patch(f"/characters/{first.id}", {"name": "Ana Lima"}).json()["name"] == "Ana Lima"
    assert Character.objects.get(pk=first.pk).name == "Ana Lima"
    before = snapshot()
    assert api.get(f"/characters/{theirs.id}").status_code == 404
    assert api.delete(f"/characters/{theirs.id}").status_code == 404
    assert api.patch(f"/characters/{theirs.id}", {"name": "Mine now"}).status_code == 404
    assert changes_since(before) == {}  # bob's character is still his, by its name
    assert api.delete(f"/characters/{first.id}").status_code == 204
    assert set(Character.objects.values_list("name", flat=True)) == {"Ana again", "Someone else", "Bob's"}


def test_merging_characters_keeps_one_and_refuses_what_cannot_merge(alice, bob, project):
    first = character(alice, "Ana", [1.0] + [0.0] * 511)
    again = character(alice, "Ana again", [0.9, 0.1] + [0.0] * 510)
    other_model = Character.objects.create(owner=alice, name="Ana (InsightFace)", embedding=[1.0] + [0.0] * 511)
    theirs = character(bob, "Bob's", [1.0] + [0.0] * 511)
    api = Api(alice)

    merged = api.post(f"/characters/{again.id}/merge", {"into": str(first.id)})
    before = snapshot()
    into_itself = api.post(f"/characters/{first.id}/merge", {"into": str(first.id)})
    across_models = api.post(f"/characters/{other_model.id}/merge", {"into": str(first.id)})
    into_theirs = api.post(f"/characters/{first.id}/merge", {"into": str(theirs.id)})

    assert merged.status_code == 200 and merged.json()["id"] == str(first.id)
    assert not Character.objects.filter(pk=again.pk).exists()
    assert into_itself.status_code == 422 and "itself" in error_of(into_itself)["message"]
    assert across_models.status_code == 422 and "another face model" in error_of(across_models)["message"]
    assert into_theirs.status_code == 404 and error_of(into_theirs)["details"] == {"field": "into"}
    assert changes_since(before) == {}
    assert set(Character.objects.filter(owner=alice).values_list("name", flat=True)) == {"Ana", "Ana (InsightFace)"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_a_photo_finds_the_character_it_shows(alice, project, workers):
    image = add(project, "image", "Photo", asset_id=str(upload(project).id))
    workers.start(1)
    api = Api(alice)
    run_id = api.post(f"/projects/{project.id}/runs", {"targets": [str(image.id)]}).json()["run"]["id"]
    wait_for_run(Run.objects.get(pk=run_id))
    image.refresh_from_db()

    photo = SimpleUploadedFile("me.png", (FIXTURES / "astronaut.png").read_bytes())
    found = api.upload("/characters/search", photo).json()

    assert found[0]["character"]["id"] == image.output["character"]
    assert found[0]["similarity"] > 0.99
    cat = api.upload("/characters/search", SimpleUploadedFile("cat.png", (FIXTURES / "chelsea.png").read_bytes()))
    assert cat.status_code == 422 and error_of(cat)["code"] == "no_face"
    again = SimpleUploadedFile("me.png", (FIXTURES / "astronaut.png").read_bytes())
    assert Api(ProjectFactory().owner).upload("/characters/search", again).json() == []  # others' are not searched
