"""GET /projects/{id}/plan: the plan the canvas shows on its cards, where an invalid graph and a run
in the way are answers (200), so that refreshing it in the background never fails."""

import pytest

from generation.models import Job
from generation.planning import plan_run
from tests.api import Api, error_of
from tests.graphs import add, text_to_video

pytestmark = pytest.mark.django_db


def test_a_valid_graph_answers_its_priced_plan_and_enqueues_nothing(alice, project, redis):
    prompt, video = text_to_video(project)

    state = Api(alice).get(f"/projects/{project.id}/plan").json()

    assert (state["valid"], state["problems"], state["conflict"]) == (True, {}, "")
    assert [(n["node"], n["action"]) for n in state["nodes"]] == [(str(prompt.id), "run"), (str(video.id), "run")]
    assert not Job.objects.exists()


def test_an_invalid_graph_answers_its_problems_by_node(alice, project):
    video = add(project, "video", "Shot")

    response = Api(alice).get(f"/projects/{project.id}/plan")

    assert response.status_code == 200
    state = response.json()
    assert state["valid"] is False and state["nodes"] == []
    assert [p["message"] for p in state["problems"][str(video.id)]] == ["Connect text to Prompt."]


def test_a_node_running_with_other_settings_answers_the_conflict(alice, project, redis):
    prompt, _ = text_to_video(project)
    plan_run(project, [prompt.id], user=alice)
    prompt.params = {"text": "Changed while running"}
    prompt.save()

    state = Api(alice).get(f"/projects/{project.id}/plan").json()

    assert state["valid"] is True and state["nodes"] == []
    assert "already running with other settings" in state["conflict"]


def test_another_users_project_is_a_404(bob, project):
    response = Api(bob).get(f"/projects/{project.id}/plan")

    assert response.status_code == 404 and error_of(response)["code"] == "not_found"
