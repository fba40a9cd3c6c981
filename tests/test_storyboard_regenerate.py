"""Regenerating one shot of a storyboard, through the API as the canvas calls it: the text model (offline,
or OpenAI and Gemini through structured output against loopback fakes) writes that shot again, and
only that shot changes; refusals and provider failures leave every row as it was."""

import json
import threading

import pytest
from django.db import connection
from django.test import override_settings
from django.urls import reverse

from generation.planning import plan_run
from nodes.models import Node
from nodes.types.storyboard import Shot, kept_rewrite
from projects.models import Membership
from providers import local_storyboard
from providers.contract import PlannedShot, ShotRewriteRequest, StoryboardRequest
from tests.api import Api, error_of
from tests.fakes.gemini import GeminiFake
from tests.fakes.gemini import api_error as gemini_error
from tests.fakes.openai import OpenAIFake
from tests.fakes.openai import api_error as openai_error
from tests.fakes.server import Accept
from tests.graphs import add, run_here, wire
from tests.test_event_contents import heard
from tests.unchanged import changes_since, snapshot

pytestmark = [pytest.mark.django_db(transaction=True)]

BRIEF = "A 24-second ad for a trail-running shoe: a runner crosses a misty ridge at dawn"
EDITED = [
    {"id": "open", "description": "A door opens onto the ridge.", "seconds": 4},
    {"id": "walk", "description": "She walks out into the mist.", "seconds": 6, "continues": True},
    {"id": "peak", "description": "She reaches the top.", "seconds": 8, "camera": "wide", "characters": ["Maya"]},
]
OPENAI = {"video": "local", "text": "openai", "image": "local", "faces": "local"}
GEMINI = {"video": "local", "text": "gemini", "image": "local", "faces": "local"}


def storyboard(project, **params) -> Node:
    brief = add(project, "prompt", "Brief", text=BRIEF)
    board = add(project, "storyboard", "Ridge run", **params)
    wire(brief, "text", board, "brief")
    return board


def planned_board(project, alice) -> Node:
    """A storyboard whose shots were planned by a run (offline) and never edited."""
    board = storyboard(project, seconds=24)
    brief = Node.objects.get(project=project, type="prompt")
    run_here(plan_run(project, [board.id], user=alice).run, brief, board)
    board.refresh_from_db()
    assert board.params.get("shots") is None and len(board.selected_take.details["shots"]) == 4
    return board


def regenerate(api: Api, board: Node, shot_id: str):
    return api.post(f"/projects/{board.project_id}/nodes/{board.id}/shots/{shot_id}/regenerate")


def as_json(rows: list[dict]) -> list[str]:
    return [json.dumps(row, sort_keys=True) for row in rows]


# Offline -----------------------------------------------------------------------------------------------


def test_a_planned_shot_is_rewritten_and_every_other_shot_stays_as_planned(project, alice, redis):
    board = planned_board(project, alice)
    planned, version = board.selected_take.details["shots"], board.version

    answer, sent = heard(project.id, lambda: regenerate(Api(alice), board, "s2"))

    assert answer.status_code == 200, answer.json()
    board.refresh_from_db()
    shots = board.params["shots"]  # the planned shots became the user's list, with one rewritten
    assert [shot["id"] for shot in shots] == ["s1", "s2", "s3", "s4"]
    assert as_json([shots[0], *shots[2:]]) == as_json([planned[0], *planned[2:]])
    new, old = shots[1], planned[1]
    assert new["description"] != old["description"] and new["camera"] != old["camera"]
    assert BRIEF in new["description"] and new["description"].startswith("Introduce the people")
    assert (new["seconds"], new["continues"], new["characters"]) == (old["seconds"], old["continues"], [])
    assert answer.json()["params"] == board.params and answer.json()["version"] == board.version == version + 1
    # Open canvases hear it as any edit of the node's settings.
    (updated,) = [event for event in sent if event["type"] == "node.updated"]
    assert updated["node"]["params"] == board.params and updated["node"]["version"] == version + 1


def test_an_edited_list_keeps_its_other_rows_exactly_as_the_user_wrote_them(project, alice, redis):
    board = storyboard(project, shots=EDITED)

    answer = regenerate(Api(alice), board, "walk")

    assert answer.status_code == 200, answer.json()
    shots = Node.objects.get(pk=board.pk).params["shots"]
    assert as_json([shots[0], shots[2]]) == as_json([EDITED[0], EDITED[2]])  # no defaults added to them
    assert [shot["id"] for shot in shots] == ["open", "walk", "peak"]
    assert shots[1]["description"] != EDITED[1]["description"]
    assert (shots[1]["seconds"], shots[1]["continues"]) == (6, True)


def test_regenerating_again_writes_it_another_way_each_time(project, alice, redis):
    board = storyboard(project, shots=EDITED)
    api = Api(alice)
    words = [EDITED[0]["description"]]

    for _ in range(3):
        assert regenerate(api, board, "open").status_code == 200
        words.append(Node.objects.get(pk=board.pk).params["shots"][0]["description"])

    assert len(set(words)) == 4
    assert Node.objects.get(pk=board.pk).version == board.version + 3


# Refusals: the rows stay as they were ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "shot_id", "code", "field"),
    [
        (lambda project: storyboard(project, shots=EDITED), "gone", "no_such_shot", "shot_id"),
        (lambda project: storyboard(project), "s1", "no_such_shot", "shot_id"),  # never planned
        (lambda project: add(project, "prompt", "Idea", text="a fox"), "s1", "not_a_storyboard", None),
        (lambda project: add(project, "storyboard", "No brief", shots=EDITED), "open", "no_brief", "brief"),
    ],
)
def test_what_cannot_be_regenerated_is_a_409_naming_why_and_nothing_changes(
    project, alice, redis, make, shot_id, code, field
):
    node = make(project)
    before = snapshot()

    answer = regenerate(Api(alice), node, shot_id)

    assert answer.status_code == 409
    error = error_of(answer)
    assert error["code"] == code and error["details"].get("field") == field
    assert changes_since(before) == {}


def test_an_unknown_shot_is_named_with_the_shots_there_are(project, alice, redis):
    board = storyboard(project, shots=EDITED)

    error = error_of(regenerate(Api(alice), board, "gone"))

    assert "'gone'" in error["message"] and "open, walk, peak" in error["message"]
    assert error["details"]["shots"] == ["open", "walk", "peak"]


def test_another_users_storyboard_is_not_found_and_a_viewer_may_not_regenerate(project, alice, bob, redis):
    board = storyboard(project, shots=EDITED)
    before = snapshot()

    outsider = regenerate(Api(bob), board, "open")
    Membership.objects.create(project=project, user=bob, role=Membership.Role.VIEWER)
    viewer = regenerate(Api(bob), board, "open")

    assert outsider.status_code == 404 and error_of(outsider)["code"] == "not_found"
    assert viewer.status_code == 403 and "editors" in error_of(viewer)["message"]
    changed = changes_since(before)
    assert set(changed) == {"Membership"}  # bob joined; the storyboard is as it was


# OpenAI and Gemini, through structured output ----------------------------------------------------------


@pytest.fixture
def openai_server():
    with (
        OpenAIFake() as fake,
        override_settings(
            OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=f"{fake.url}/v1", OPENAI_MODEL="gpt-test", PROVIDERS=OPENAI
        ),
    ):
        yield fake


def rewritten(**fields) -> str:
    shot = {"description": "She strides out of the mist, breath visible.", "seconds": 5, "characters": []}
    shot |= {"camera": "low tracking shot", "continues": True}
    return json.dumps(shot | fields)


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_openai_is_asked_for_one_shot_with_the_brief_and_the_other_shots(openai_server, project, alice, redis, api):
    openai_server.answers.append(rewritten(characters=["Maya", "Bob"]))
    board = storyboard(project, shots=EDITED)

    with override_settings(OPENAI_API=api):
        answer = regenerate(Api(alice), board, "walk")

    assert answer.status_code == 200, answer.json()
    shots = Node.objects.get(pk=board.pk).params["shots"]
    # Kept to the rules: its id, its own length (5 s is not Veo's; the film keeps its length), and no
    # character that is not connected.
    assert shots[1] == {
        "id": "walk",
        "description": "She strides out of the mist, breath visible.",
        "seconds": 6,
        "characters": [],
        "camera": "low tracking shot",
        "continues": True,
    }
    assert as_json([shots[0], shots[2]]) == as_json([EDITED[0], EDITED[2]])
    path = "/v1/chat/completions" if api == "chat" else "/v1/responses"
    (body,) = openai_server.bodies(path)
    holder = body["response_format"] if api == "chat" else body["text"]["format"]
    schema = holder.get("json_schema", holder)
    assert schema["name"] == "PlannedShot" and schema["strict"] is True
    assert set(schema["schema"]["properties"]) == {"description", "seconds", "characters", "camera", "continues"}
    said = json.dumps(body)
    assert 'Rewrite only shot 2 (id \\"walk\\")' in said and "Keep its length: 6 seconds" in said
    assert BRIEF in said and all(shot["description"] in said for shot in EDITED)


@pytest.mark.parametrize(
    ("step", "status", "code", "words"),
    [
        (openai_error(500, "The server had an error"), 503, "provider_unavailable", "server error (500)"),
        (openai_error(400, "Invalid schema for response_format"), 502, "provider_rejected", "Invalid schema"),
        (openai_error(429, "Rate limit reached"), 503, "provider_unavailable", "rate-limiting"),
    ],
)
def test_a_provider_failure_is_a_502_or_503_with_its_words_and_the_shot_unchanged(
    openai_server, project, alice, redis, step, status, code, words
):
    openai_server.answers.append(step)
    board = storyboard(project, shots=EDITED)
    before = snapshot()

    answer = regenerate(Api(alice), board, "walk")

    assert answer.status_code == status
    error = error_of(answer)
    assert error["code"] == code and words in error["message"] and "The shot is unchanged." in error["message"]
    assert error["details"]["provider"] == "openai"
    assert changes_since(before) == {}


def test_the_request_is_bounded_by_the_providers_timeout_when_shorter(openai_server, project, alice, redis):
    openai_server.answers.append(Accept(delay=5))
    board = storyboard(project, shots=EDITED)
    before = snapshot()

    with override_settings(PROVIDER_TIMEOUT_SECONDS=1):
        answer = regenerate(Api(alice), board, "walk")

    assert answer.status_code == 503
    assert "did not answer within 1 s" in error_of(answer)["message"]
    assert answer["Retry-After"] == "5"
    assert changes_since(before) == {}


def test_a_missing_key_is_a_503_saying_which(project, alice, redis):
    board = storyboard(project, shots=EDITED)

    with override_settings(OPENAI_API_KEY="", PROVIDERS=OPENAI):
        answer = regenerate(Api(alice), board, "walk")

    assert answer.status_code == 503
    error = error_of(answer)
    assert error["code"] == "provider_not_configured" and "OPENAI_API_KEY" in error["message"]


def test_a_second_click_while_the_first_is_under_way_never_pays_twice(openai_server, project, alice, redis):
    release = threading.Event()
    first = Accept(release=release, text=rewritten(description="Out of the mist she comes, first light behind her."))
    openai_server.answers.append(first)
    board = storyboard(project, shots=EDITED)
    api = Api(alice)
    answers = {}

    def click():
        try:
            answers["first"] = regenerate(api, board, "walk")
        finally:
            connection.close()

    thread = threading.Thread(target=click)
    thread.start()
    assert first.received.wait(30)
    second = regenerate(api, board, "walk")
    release.set()
    thread.join(60)

    assert second.status_code == 409 and error_of(second)["code"] == "already_regenerating"
    assert answers["first"].status_code == 200
    assert len(openai_server.billed("text")) == 1
    assert Node.objects.get(pk=board.pk).params["shots"][1]["description"].startswith("Out of the mist she comes")


def test_gemini_is_asked_for_json_of_one_shot_within_the_rewrite_timeout(project, alice, redis, tmp_path):
    board = storyboard(project, shots=EDITED)
    with (
        GeminiFake(tmp_path) as fake,
        override_settings(
            GEMINI_API_KEY="k",
            GEMINI_BASE_URL=fake.url,
            GEMINI_TEXT_MODEL="gemini-test",
            PROVIDERS=GEMINI,
            PROVIDER_TIMEOUT_SECONDS=60,
        ),
    ):
        fake.texts.append(rewritten(seconds=8, continues=True))
        answer = regenerate(Api(alice), board, "open")
        fake.texts.append(gemini_error(400, "Request contains an invalid argument.", "INVALID_ARGUMENT"))
        refused = regenerate(Api(alice), board, "peak")

    assert answer.status_code == 200, answer.json()
    shots = Node.objects.get(pk=board.pk).params["shots"]
    # The first shot stays a cut and keeps its 4 s, whatever the model said.
    assert (shots[0]["id"], shots[0]["seconds"], shots[0]["continues"]) == ("open", 4, False)
    assert shots[0]["description"] == "She strides out of the mist, breath visible."
    assert as_json(shots[1:]) == as_json(EDITED[1:])
    call = fake.received("POST", ":generateContent")[0]
    config = call.json()["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    schema = json.dumps(config.get("responseJsonSchema") or config.get("responseSchema"))
    assert "camera" in schema and "continues" in schema and "shots" not in schema  # one shot, not a plan
    said = json.dumps(call.json())
    assert 'id \\"open\\"' in said and all(shot["description"] in said for shot in EDITED)
    assert call.headers.get("x-server-timeout") == "30"  # the person waits: not the providers' 60 s
    assert refused.status_code == 502 and "invalid argument" in error_of(refused)["message"]


def test_a_rewrite_keeps_only_connected_characters_and_the_first_shot_a_cut():
    current = Shot(id="peak", description="x", seconds=8, characters=["Maya"])
    answer = PlannedShot(description=" y ", seconds=4, characters=["maya", "Bob", "Ana"], camera="c", continues=True)

    kept = kept_rewrite(answer, current, ["Maya", "Ana"], first=True)

    assert kept == Shot(id="peak", description="y", seconds=8, characters=["Maya", "Ana"], camera="c", continues=False)
    assert kept_rewrite(answer, current, [], first=False).continues is True


def test_an_answer_that_is_not_a_shot_is_a_502_and_nothing_changes(openai_server, project, alice, redis):
    openai_server.answers.append("Sure! Here is your shot: she runs.")
    board = storyboard(project, shots=EDITED)
    before = snapshot()

    answer = regenerate(Api(alice), board, "walk")

    assert answer.status_code == 502
    error = error_of(answer)
    assert error["code"] == "provider_error" and "could not be used" in error["message"]
    assert changes_since(before) == {}


def test_the_offline_rewrite_is_the_same_for_the_same_shot_and_never_its_current_words():
    film = StoryboardRequest(brief=BRIEF, seconds=18, shots=3, characters=("Maya",))
    shots = tuple(PlannedShot(**Shot.model_validate(row).model_dump(exclude={"id"})) for row in EDITED)
    request = ShotRewriteRequest(storyboard=film, shots=shots, ids=("open", "walk", "peak"), shot_id="peak")

    once, again = local_storyboard.rewrite(request), local_storyboard.rewrite(request)

    assert once == again
    assert once.description != shots[2].description and once.camera != shots[2].camera
    assert (once.seconds, once.continues, once.characters) == (8, False, ["Maya"])
    assert once.description.startswith("The detail that matters with Maya, filmed as a ")


@pytest.mark.parametrize(
    ("providers", "words"),
    [
        (GEMINI, "Regenerate writes one shot again with Gemini: one paid text request"),
        ({**GEMINI, "text": "local"}, "Regenerate writes one shot again with the offline planner (free)"),
    ],
)
def test_the_inspector_says_what_regenerating_costs(project, alice, client, providers, words):
    board = storyboard(project, shots=EDITED)
    client.force_login(alice)

    with override_settings(PROVIDERS=providers):
        page = client.get(reverse("inspector", args=[project.id, board.id])).content.decode()

    assert words in page
    assert page.count('data-shot-action="regenerate"') == 3 and 'aria-label="Regenerate shot 2"' in page
