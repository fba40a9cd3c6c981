"""The Storyboard node: a brief planned into shots (offline, or by OpenAI and Gemini through structured
output against loopback fakes), kept to Veo's rules before anything is paid, edited by the user."""

import json

import pytest
from django.test import override_settings

from generation.models import Job
from generation.planning import plan_run
from nodes.models import Node
from nodes.types.base import Problem, Usage
from nodes.types.storyboard import StoryboardNode, StoryboardParams, kept_to_veo
from providers import local_storyboard
from providers.contract import PlannedShot, ShotPlan, StoryboardRequest
from providers.gemini_text import GeminiTextProvider
from providers.openai_text import OpenAITextProvider
from tests.api import Api, error_of
from tests.fakes.gemini import GeminiFake
from tests.fakes.openai import OpenAIFake
from tests.graphs import add, run_here, upload, wire

BRIEF = "A 30-second ad for a trail-running shoe: Maya runs a misty mountain ridge at dawn"


def test_the_offline_planner_fills_the_length_with_veo_shots_alternating_cuts_and_continuations():
    request = StoryboardRequest(brief=BRIEF, seconds=30, shots=None, characters=("Maya",))

    plan = local_storyboard.plan(request)

    shots = plan.shots
    assert len(shots) == 5  # about one per six seconds
    assert [shot.seconds for shot in shots] == [6, 6, 6, 6, 6]
    assert [shot.continues for shot in shots] == [False, True, False, True, False]
    assert [shot.characters for shot in shots] == [[], ["Maya"], ["Maya"], ["Maya"], ["Maya"]]
    assert all(BRIEF in shot.description for shot in shots)
    assert shots[0].description.startswith("Establishing shot: ")
    assert shots[1].description.startswith("Introduce the people with Maya: ")
    assert local_storyboard.plan(request) == plan  # the same brief, the same plan


@pytest.mark.parametrize(
    ("seconds", "count", "lengths"),
    [(30, 6, [6, 6, 6, 4, 4, 4]), (8, None, [8]), (20, 2, [8, 8]), (45, 4, [8, 8, 8, 8]), (12, 3, [4, 4, 4])],
)
def test_shot_lengths_are_veos_and_add_up_to_the_target_as_closely_as_they_can(seconds, count, lengths):
    shots = local_storyboard.plan(StoryboardRequest(brief="a fox", seconds=seconds, shots=count)).shots

    assert [shot.seconds for shot in shots] == lengths


# Language models, through structured output ------------------------------------------------------

MODEL_PLAN = ShotPlan(
    shots=[
        PlannedShot(description="Mist over the ridge.", seconds=7, characters=[], camera="wide", continues=True),
        PlannedShot(
            description="Maya laces up.", seconds=5, characters=["maya", "Bob"], camera="close", continues=False
        ),
        PlannedShot(description="She sprints.", seconds=12, characters=["Maya"], camera="tracking", continues=True),
    ]
)


@pytest.fixture
def openai_server():
    with (
        OpenAIFake() as fake,
        override_settings(OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=f"{fake.url}/v1", OPENAI_MODEL="gpt-test"),
    ):
        yield fake


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_openai_is_asked_for_the_shot_list_schema_and_its_answer_parsed(openai_server, api):
    openai_server.answers.append(MODEL_PLAN.model_dump_json())
    request = StoryboardRequest(brief=BRIEF, seconds=20, shots=3, tone="upbeat", characters=("Maya",))

    with override_settings(OPENAI_API=api):
        planned = OpenAITextProvider().storyboard(request)

    assert planned.plan == MODEL_PLAN
    assert (planned.provider, planned.model) == ("openai", "gpt-test")
    path = "/v1/chat/completions" if api == "chat" else "/v1/responses"
    (body,) = openai_server.bodies(path)
    schema_holder = body["response_format"] if api == "chat" else body["text"]["format"]
    schema = schema_holder.get("json_schema", schema_holder)
    assert schema["name"] == "ShotPlan" and schema["strict"] is True
    properties = schema["schema"]["$defs"]["PlannedShot"]["properties"]
    assert set(properties) == {"description", "seconds", "characters", "camera", "continues"}
    said = json.dumps(body)
    assert "The film lasts 20 seconds in total" in said and "plan exactly 3 shots" in said and "Maya" in said


def test_gemini_is_asked_for_json_of_the_shot_list_schema(tmp_path):
    with (
        GeminiFake(tmp_path) as fake,
        override_settings(GEMINI_API_KEY="k", GEMINI_BASE_URL=fake.url, GEMINI_TEXT_MODEL="gemini-test"),
    ):
        fake.texts.append(MODEL_PLAN.model_dump_json())
        planned = GeminiTextProvider().storyboard(StoryboardRequest(brief=BRIEF, seconds=20, shots=None))

    assert planned.plan == MODEL_PLAN
    (call,) = fake.received("POST", ":generateContent")
    config = call.json()["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    schema = config.get("responseJsonSchema") or config.get("responseSchema")
    assert "shots" in json.dumps(schema) and "continues" in json.dumps(schema)


# The node, in runs -----------------------------------------------------------------------------------


def storyboard(project, **params):
    brief = add(project, "prompt", "Brief", text=BRIEF)
    board = add(project, "storyboard", "Storyboard", **params)
    wire(brief, "text", board, "brief")
    return brief, board


@pytest.mark.django_db(transaction=True)
def test_a_model_plan_is_kept_to_veos_rules_before_anything_is_paid(project, alice, openai_server, redis):
    openai_server.answers.append(MODEL_PLAN.model_dump_json())
    face = add(project, "image", "Maya", asset_id=str(upload(project).id))
    brief, board = storyboard(project, seconds=20)
    wire(face, "character", board, "characters")

    run_here(plan_run(project, [face.id], user=alice).run, face)
    face.refresh_from_db()
    renamed = Api(alice).patch(f"/characters/{face.output['character']}", {"name": "Maya"})
    assert renamed.status_code == 200, renamed.json()

    with override_settings(PROVIDERS={"video": "local", "text": "openai", "image": "local", "faces": "local"}):
        run = plan_run(project, [board.id], user=alice).run
        job = run_here(run, brief, board)

    assert job.status == Job.Status.SUCCEEDED, job.error_message
    board.refresh_from_db()
    shots = board.selected_take.details["shots"]
    assert [(s["id"], s["seconds"], s["continues"]) for s in shots] == [
        ("s1", 8, False),  # 7 s is not a Veo length: 8; the first shot cannot continue
        ("s2", 6, False),  # 5 s: 6 (a tie goes to the longer)
        ("s3", 8, True),  # 12 s: 8
    ]
    # "maya" is the connected Maya; Bob is not connected, so he is left out.
    assert [s["characters"] for s in shots] == [[], ["Maya"], ["Maya"]]
    assert board.output["text"].startswith("1. (8 s, cut) [wide] Mist over the ridge.\n2. (6 s, cut) [close]")
    assert board.selected_take.details["planned_by"] == {"provider": "openai", "model": "gpt-test"}


@pytest.mark.django_db(transaction=True)
def test_edited_shots_are_used_as_they_are_without_asking_a_model(project, alice, redis):
    shots = [
        {"id": "open", "description": "A door opens.", "seconds": 4},
        {"id": "walk", "description": "She walks in.", "seconds": 6, "continues": True},
    ]
    brief, board = storyboard(project, shots=shots)

    run = plan_run(project, [board.id], user=alice).run
    job = run_here(run, brief, board)

    assert job.status == Job.Status.SUCCEEDED
    board.refresh_from_db()
    details = board.selected_take.details
    assert [s["id"] for s in details["shots"]] == ["open", "walk"] and details["edited"] is True
    assert "planned_by" not in details
    assert board.output["text"] == "1. (4 s, cut) A door opens.\n2. (6 s, continues) She walks in."


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("shots", "words"),
    [
        ([{"id": "a", "description": "x", "continues": True}], "The first shot has nothing to continue"),
        ([{"id": "a", "description": "x"}, {"id": "a", "description": "y"}], "Two shots share an id"),
    ],
)
def test_shots_that_break_the_rules_stop_the_run_before_it_starts(project, alice, shots, words):
    _, board = storyboard(project, shots=shots)

    answer = Api(alice).post(f"/projects/{project.id}/runs", {"targets": [str(board.id)]})

    assert answer.status_code == 422
    assert words in json.dumps(error_of(answer))
    assert not Job.objects.filter(project=project).exists()


@pytest.mark.django_db
def test_a_shot_of_a_length_veo_does_not_make_is_refused_with_the_field(project, alice):
    brief = add(project, "prompt", "Brief", text=BRIEF)
    api = Api(alice)

    refused = api.post(
        f"/projects/{project.id}/nodes",
        {"type": "storyboard", "params": {"shots": [{"id": "a", "description": "x", "seconds": 5}]}},
    )

    assert refused.status_code == 422
    assert "seconds" in json.dumps(error_of(refused))
    assert list(Node.objects.filter(project=project)) == [brief]


# The rules, exactly (each killed a planted bug that the run tests above let through) ----------------

NODE = StoryboardNode()


def edited(*shots) -> StoryboardParams:
    return StoryboardParams.model_validate({"shots": list(shots)})


def test_the_rules_name_the_field_and_the_code_and_pass_a_valid_list():
    first_continues = edited({"id": "a", "description": "x", "continues": True})
    twins = edited({"id": "a", "description": "x"}, {"id": "a", "description": "y"})
    fine = edited({"id": "a", "description": "x"}, {"id": "b", "description": "y", "continues": True})

    assert NODE.check(first_continues, {}) == [
        Problem("The first shot has nothing to continue: make it a cut.", code="veo_rule", field="shots")
    ]
    assert NODE.check(twins, {}) == [Problem("Two shots share an id: give each shot its own.", field="shots")]
    assert NODE.check(fine, {}) == [] and NODE.check(StoryboardParams(), {}) == []


def test_only_a_plan_asks_the_text_model():
    assert NODE.estimate(StoryboardParams(), {}) == [Usage("text")]
    assert NODE.estimate(edited({"id": "a", "description": "x"}), {}) == []


def planned(**fields) -> PlannedShot:
    return PlannedShot(
        **({"description": "d", "seconds": 8, "characters": [], "camera": "", "continues": False} | fields)
    )


def test_a_model_plan_is_cut_to_what_the_schema_and_veo_allow():
    shots = kept_to_veo(
        [
            planned(description="   "),
            planned(description="x" * 2500, camera="c" * 300, continues=True),
            planned(characters=["A", "b", "C", "D"]),
        ],
        ["a", "B", "c", "d"],
        None,
    )

    assert shots[0].description == "An empty shot."
    assert (len(shots[1].description), len(shots[1].camera), shots[1].continues) == (2000, 200, True)
    assert shots[2].characters == ["a", "B", "c"]  # at most three, as connected
    assert len(kept_to_veo([planned()] * 14, [], None)) == 12
    assert len(kept_to_veo([planned()] * 14, [], 2)) == 2
