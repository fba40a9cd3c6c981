"""Plans, costs, takes and characters."""

from decimal import Decimal

import pytest
from django.test import override_settings
from PIL import Image

from assets.models import Asset
from assets.storage import store_file
from characters.models import Character
from generation.models import Job, Run
from generation.planning import RunConflict, plan_run
from nodes.graph import GraphInvalid
from nodes.models import Node
from nodes.services import select_take
from tests.factories import ProjectFactory
from tests.graphs import FIXTURES, add, upload, wait_for_run, wire

SIMULATED = {"video": "simulated", "text": "local", "faces": "local"}


def prompt_to_video(project, **video):
    prompt = add(project, "prompt", "Line", text="A lighthouse in a storm")
    video = add(project, "video", "Shot", **({"duration_seconds": 4} | video))
    wire(prompt, "text", video, "prompt")
    return prompt, video


@pytest.mark.django_db
def test_a_dry_run_prices_the_plan_and_enqueues_nothing(project, alice, redis):
    prompt, video = prompt_to_video(project, duration_seconds=8, resolution="1080p")

    with override_settings(PROVIDERS=SIMULATED):
        plan = plan_run(project, [video.id], user=alice, dry_run=True)

    assert plan.run is None and plan.dry_run
    assert [(p.node_id, p.action, p.reason) for p in plan.nodes] == [
        (str(prompt.id), "run", "never run"),
        (str(video.id), "run", "an input changes"),
    ]
    assert plan.cost == Decimal("3.20")  # 8 s at $0.40 per second (configured price of 1080p)
    assert not Run.objects.exists() and not Job.objects.exists()
    assert redis.llen("rq:queue:text") == 0


@pytest.mark.django_db
def test_offline_providers_cost_nothing(project, alice, redis):
    _, video = prompt_to_video(project)

    plan = plan_run(project, [video.id], user=alice, dry_run=True)

    assert plan.cost == Decimal("0")


@pytest.mark.django_db
def test_a_run_of_one_node_plans_only_what_it_needs(project, alice, redis, django_capture_on_commit_callbacks):
    prompt, video = prompt_to_video(project)
    add(project, "prompt", "Unrelated", text="Something else")

    with django_capture_on_commit_callbacks(execute=True):
        plan = plan_run(project, [prompt.id], user=alice)

    assert [p.node_id for p in plan.nodes] == [str(prompt.id)]
    assert Job.objects.get().node == prompt
    assert redis.llen("rq:queue:text") == 1
    video.refresh_from_db()
    assert video.status == Node.Status.IDLE


@pytest.mark.django_db
def test_an_empty_target_list_runs_the_whole_project(project, alice, redis):
    prompt, video = prompt_to_video(project)
    other = add(project, "prompt", "Second", text="Another line")

    plan = plan_run(project, [], user=alice, dry_run=True)

    assert {p.node_id for p in plan.nodes} == {str(prompt.id), str(video.id), str(other.id)}


@pytest.mark.django_db
def test_a_target_from_another_project_is_refused(project, alice, redis):
    elsewhere = add(ProjectFactory(), "prompt", text="not yours")

    with pytest.raises(GraphInvalid) as raised:
        plan_run(project, [elsewhere.id], user=alice)
    assert raised.value.problems[0].code == "unknown_node"


@pytest.mark.django_db
def test_running_a_node_again_with_other_settings_while_it_runs_is_a_conflict(project, alice, redis):
    prompt, _ = prompt_to_video(project)
    plan_run(project, [prompt.id], user=alice)
    prompt.params = {"text": "Changed while running"}
    prompt.save()

    with pytest.raises(RunConflict, match="already running with other settings"):
        plan_run(project, [prompt.id], user=alice)


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_picking_an_earlier_take_restores_it_and_changes_what_is_downstream(project, alice, workers):
    prompt, video = prompt_to_video(project)
    workers.start(1)
    assert wait_for_run(plan_run(project, [prompt.id], user=alice).run).status == Run.Status.SUCCEEDED
    prompt.refresh_from_db()
    first_take = prompt.selected_take
    prompt.params = {"text": "A lighthouse in the sun"}
    prompt.save()
    assert wait_for_run(plan_run(project, [video.id], user=alice).run).status == Run.Status.SUCCEEDED
    prompt.refresh_from_db()
    assert (prompt.selected_take.number, prompt.output["text"]) == (2, "A lighthouse in the sun")
    assert {p.action for p in plan_run(project, [video.id], dry_run=True).nodes} == {"cached"}

    select_take(prompt, first_take)

    prompt.refresh_from_db()
    assert prompt.params == first_take.params and prompt.output == {"text": "A lighthouse in a storm"}
    actions = {p.node_id: p.action for p in plan_run(project, [video.id], dry_run=True).nodes}
    assert actions == {str(prompt.id): "cached", str(video.id): "run"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_the_same_face_uploaded_twice_is_one_character_and_a_cat_is_none(project, alice, workers, tmp_path):
    again = tmp_path / "astronaut-again.jpg"
    with Image.open(FIXTURES / "astronaut.png") as image:
        image.convert("RGB").resize((420, 420)).save(again, quality=85)
    first = add(project, "image", "First upload", asset_id=str(upload(project).id))
    copy = store_file(project, again, "image", origin=Asset.Origin.UPLOAD)
    second = add(project, "image", "Second upload", asset_id=str(copy.id))
    cat = add(project, "image", "Cat", asset_id=str(upload(project, "chelsea.png").id))
    workers.start(1)

    run = wait_for_run(plan_run(project, [], user=alice).run)

    assert run.status == Run.Status.SUCCEEDED
    for node in (first, second, cat):
        node.refresh_from_db()
    assert first.output["character"] == second.output["character"]
    assert "character" not in cat.output and cat.output["image"]
    character = Character.objects.get()
    assert character.owner == alice
    assert character.reference_assets.count() == 2
    assert character.embedding_model == "local:sface-2021dec-int8bq"
