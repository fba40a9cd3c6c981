"""The storyboard journey (brief, plan, edit a shot, expand, run the film) on real workers with the real
provider adapters and SDKs, against loopback fakes of the Gemini API (text, image, Veo, Lyria) and the
OpenAI API (text, image): what each request carries, that the film is the storyboard's, in its order,
and how every way a keyframe can fail behaves inside the expanded run (never paying twice)."""

from __future__ import annotations

import base64
import json
from collections import Counter, deque
from dataclasses import dataclass

import pytest
from django.test import override_settings

from actions.storyboard import shots_of
from assets import media
from generation.models import Job, Report, Run
from generation.planning import MAY_CHARGE_AGAIN, plan_run
from nodes.models import Node
from nodes.types.storyboard import StoryboardParams
from providers.contract import PlannedShot, ShotPlan
from tests.api import Api
from tests.engine_helpers import asset_path
from tests.fakes import openai as openai_fake
from tests.fakes.gemini import Accept, GeminiFake, api_error
from tests.fakes.openai import OpenAIFake
from tests.graphs import add, upload, wait_for_run, wire
from tests.test_stitch_order import segment_sources
from tests.test_storyboard_expand import source_of

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

BRIEF = "A short ad for a trail-running shoe: Maya on a misty ridge at dawn"
IMAGE_TIMEOUT = 3.0  # seconds a keyframe's answer may take: short, as a test waits it out, yet not tight
GEMINI_EVERYWHERE = {"text": "gemini", "image": "gemini", "video": "veo", "music": "lyria", "faces": "local"}
OPENAI_TEXT_AND_IMAGES = GEMINI_EVERYWHERE | {"text": "openai", "image": "openai"}


def shot(description: str, *, characters=(), camera: str = "", continues: bool = False) -> PlannedShot:
    return PlannedShot(
        description=description, seconds=4, characters=list(characters), camera=camera, continues=continues
    )


def answer(*shots: PlannedShot) -> str:
    """A language model's structured answer: JSON of the shot-list schema it was given."""
    return ShotPlan(shots=list(shots)).model_dump_json()


def worker_environment(providers: dict, gemini: GeminiFake, openai: OpenAIFake | None = None) -> dict[str, str]:
    """The workers' settings: the same providers as the web process plans with (`providers`)."""
    env = {
        "GEMINI_API_KEY": "test-key",
        "GEMINI_BASE_URL": gemini.url,
        "REELGRAPH_VEO_POLL_SECONDS": "0.5",
        "REELGRAPH_IMAGE_TIMEOUT": str(IMAGE_TIMEOUT),
        "REELGRAPH_TEXT_PROVIDER": providers["text"],
        "REELGRAPH_IMAGE_PROVIDER": providers["image"],
        "REELGRAPH_VIDEO_PROVIDER": providers["video"],
        "REELGRAPH_MUSIC_PROVIDER": providers["music"],
        "REELGRAPH_FACE_PROVIDER": providers["faces"],
    }
    if openai is not None:
        env |= {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": f"{openai.url}/v1", "OPENAI_MODEL": "gpt-test"}
    return env


@dataclass
class Journey:
    board: Node
    photo: bytes  # Maya's face photo, as stored
    expansion: dict

    def nodes(self, role: str) -> list[Node]:
        """The expansion's nodes of one role, in shot order."""
        board = Node.objects.select_related("selected_take").get(pk=self.board.pk)
        order = [shot.id for shot in shots_of(board, StoryboardParams.model_validate(board.params))] + ["film"]
        nodes = Node.objects.filter(origin__storyboard=str(board.id), origin__role=role)
        return sorted(nodes, key=lambda node: order.index(node.origin["shot"]))

    @property
    def film(self) -> Node:
        return Node.objects.get(pk=self.expansion["film"])

    def prompt_of(self, node: Node) -> str:
        ((prompt, _),) = source_of(node, "prompt")
        return prompt.params["text"]


def storyboard_journey(project, alice, *, seconds: int, edit=None) -> Journey:
    """Maya's photo becomes a character; a brief and Maya go into a storyboard, which the text model
    (scripted by the test) plans on the workers; `edit(shots)` changes the planned shots as a user does
    in the inspector (saved through the API); then the storyboard is expanded, as the canvas asks."""
    api = Api(alice)
    photo = upload(project)
    face = add(project, "image", "Maya photo", asset_id=str(photo.id))
    assert wait_for_run(plan_run(project, [face.id], user=alice).run).status == Run.Status.SUCCEEDED
    face.refresh_from_db()
    assert api.patch(f"/characters/{face.output['character']}", {"name": "Maya"}).status_code == 200
    brief = add(project, "prompt", "Brief", text=BRIEF)
    board = add(project, "storyboard", "Shoe ad", seconds=seconds, aspect_ratio="16:9")
    wire(brief, "text", board, "brief")
    wire(face, "character", board, "characters")

    planned = wait_for_run(plan_run(project, [board.id], user=alice).run)
    assert planned.status == Run.Status.SUCCEEDED, Job.objects.filter(run=planned).values("error_message")
    board.refresh_from_db()
    if edit is not None:
        shots = edit([dict(shot) for shot in board.selected_take.details["shots"]])
        path = f"/projects/{project.id}/nodes/{board.id}"
        edited = api.patch(path, {"version": board.version, "params": {"shots": shots}})
        assert edited.status_code == 200, edited.json()
    expanded = api.post(f"/projects/{project.id}/nodes/{board.id}/expand")
    assert expanded.status_code == 200, expanded.json()
    return Journey(board, asset_path(photo.id).read_bytes(), expanded.json())


def run_film(journey: Journey, alice) -> Run:
    return wait_for_run(plan_run(journey.board.project, [journey.film.id], user=alice).run)


def assert_the_film_is_the_storyboards(journey: Journey, seconds: int) -> None:
    """As long as the storyboard's target, its shots in the storyboard's order (each fake Veo clip has
    its own colours, from its prompt)."""
    videos = journey.nodes("video")
    final = asset_path(journey.film.output["video"])
    assert media.probe(final).duration == pytest.approx(seconds, abs=1)
    clips = {str(video.id): asset_path(video.output["video"]) for video in videos}
    assert segment_sources(final, clips, list(clips)) == list(clips)


def veo_requests(journey: Journey, gemini: GeminiFake) -> dict[str, dict]:
    """Each video node's one Veo submit (Veo was asked exactly once per video: never paid twice)."""
    videos = journey.nodes("video")
    asked = Counter(body["instances"][0]["prompt"] for body in gemini.submitted())
    assert asked == Counter(journey.prompt_of(video) for video in videos)
    assert set(asked.values()) == {1} and gemini.operations_created == len(videos)
    by_prompt = {body["instances"][0]["prompt"]: body for body in gemini.submitted()}
    return {str(video.id): by_prompt[journey.prompt_of(video)] for video in videos}


def assert_each_video_starts_on_its_first_frame(journey: Journey, gemini: GeminiFake) -> None:
    """A cut starts on its keyframe, a continuation on the previous shot's last frame; 16:9, 4 s."""
    sent = veo_requests(journey, gemini)
    videos = journey.nodes("video")
    keyframes = {node.origin["shot"]: node for node in journey.nodes("keyframe")}
    for earlier, video in zip([None, *videos], videos, strict=False):
        body = sent[str(video.id)]
        assert (body["parameters"]["aspectRatio"], body["parameters"]["durationSeconds"]) == ("16:9", 4)
        ((source, port),) = source_of(video, "first_frame")
        cut = video.origin["shot"] in keyframes
        assert (source, port) == ((keyframes[video.origin["shot"]], "image") if cut else (earlier, "last_frame"))
        source.refresh_from_db()
        first_frame = asset_path(source.output[port]).read_bytes()
        assert base64.b64decode(body["instances"][0]["image"]["bytesBase64Encoded"]) == first_frame


def gemini_pictures(body: dict) -> list[bytes]:
    parts = body["contents"][0]["parts"]
    return [base64.urlsafe_b64decode(part["inlineData"]["data"]) for part in parts if "inlineData" in part]


def gemini_image_prompt(body: dict) -> str:
    return " ".join(part["text"] for part in body["contents"][0]["parts"] if "text" in part)


# The journey with Gemini everywhere ---------------------------------------------------------------------


def test_a_storyboard_becomes_its_film_with_gemini_veo_and_lyria(project, alice, workers, tmp_path):
    def maya_joins_the_last_shot(shots):
        shots[2] |= {"description": "Maya reaches the summit and looks back.", "characters": ["Maya"]}
        return shots

    with GeminiFake(tmp_path) as gemini, override_settings(PROVIDERS=GEMINI_EVERYWHERE):
        gemini.texts.append(
            answer(
                shot("Maya laces her shoes on the ridge.", characters=["Maya"], camera="close"),
                shot("She sets off running into the mist.", continues=True),
                shot("The summit at sunrise.", camera="wide"),
            )
        )
        workers.start(2, **worker_environment(GEMINI_EVERYWHERE, gemini))
        journey = storyboard_journey(project, alice, seconds=12, edit=maya_joins_the_last_shot)
        run = run_film(journey, alice)

    assert run.status == Run.Status.SUCCEEDED, workers.logs()
    assert_the_film_is_the_storyboards(journey, 12)
    # The shot list was asked for as JSON of its schema.
    (planning,) = gemini.text_requests()
    config = planning["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert "continues" in json.dumps(config.get("responseJsonSchema") or config["responseSchema"])
    # Each keyframe asked for once, 16:9, with Maya's photo where she is in the shot (the edited shot too).
    keyframes = journey.nodes("keyframe")
    asked = {gemini_image_prompt(body): body for body in gemini.image_requests()}
    assert sorted(asked) == sorted(journey.prompt_of(keyframe) for keyframe in keyframes)
    assert len(gemini.image_requests()) == len(keyframes) == 2
    first, edited = (asked[journey.prompt_of(keyframe)] for keyframe in keyframes)
    assert gemini_image_prompt(edited) == "Maya reaches the summit and looks back. Camera: wide."
    assert gemini_pictures(first) == gemini_pictures(edited) == [journey.photo]
    assert {body["generationConfig"]["imageConfig"]["aspectRatio"] for body in asked.values()} == {"16:9"}
    assert_each_video_starts_on_its_first_frame(journey, gemini)
    # The soundtrack: Lyria asked once, with the music prompt the expansion wrote.
    (music_prompt,) = journey.nodes("music-prompt")
    (music,) = gemini.music_requests()
    assert music["input"] == music_prompt.params["text"] and BRIEF in music["input"]
    assert len(gemini.billed("music")) == 1


# The journey with OpenAI for text and images -------------------------------------------------------------


def test_a_storyboard_becomes_its_film_with_openai_text_and_images(project, alice, workers, tmp_path):
    def maya_looks_up(shots):
        shots[1]["description"] = "Maya looks up at the summit."
        return shots

    with (
        GeminiFake(tmp_path) as gemini,
        OpenAIFake() as openai,
        override_settings(PROVIDERS=OPENAI_TEXT_AND_IMAGES),
    ):
        openai.answers.append(answer(shot("Mist over the ridge.", camera="wide"), shot("x", characters=["maya"])))
        workers.start(2, **worker_environment(OPENAI_TEXT_AND_IMAGES, gemini, openai))
        journey = storyboard_journey(project, alice, seconds=8, edit=maya_looks_up)
        run = run_film(journey, alice)

    assert run.status == Run.Status.SUCCEEDED, workers.logs()
    assert_the_film_is_the_storyboards(journey, 8)
    # The shot list through Chat Completions' structured output (an OPENAI_BASE_URL means the chat form).
    (planning,) = openai.bodies("/v1/chat/completions")
    schema = planning["response_format"]["json_schema"]
    assert (schema["name"], schema["strict"]) == ("ShotPlan", True)
    # The keyframe without a character is generated; Maya's is an edit of her photo, sent as image[].
    plain, with_maya = journey.nodes("keyframe")
    (generated,) = openai.bodies("/v1/images/generations")
    assert (generated["prompt"], generated["size"]) == (journey.prompt_of(plain), "1536x1024")
    (edit,) = [openai_fake.form(call) for call in openai.received("POST", "/v1/images/edits")]
    assert edit["prompt"] == journey.prompt_of(with_maya) == "Maya looks up at the summit."
    assert (edit["image[]"], edit["size"]) == ([journey.photo], "1536x1024")
    assert len(openai.billed("image")) == 2
    assert_each_video_starts_on_its_first_frame(journey, gemini)
    assert len(gemini.music_requests()) == 1


# Every way a keyframe can fail, inside one expanded run ---------------------------------------------------

FAILING_SHOTS = {
    # words of the shot: how Gemini answers its keyframe the first time
    "cliff": Accept(delay=2 * IMAGE_TIMEOUT),  # made and billed, the answer after our timeout
    "bridge": Accept(fail=api_error(500, "Internal error encountered.", "INTERNAL")),  # made, then a 5xx
    "lake": api_error(429, "Resource has been exhausted.", "RESOURCE_EXHAUSTED"),  # nothing made; try again
    "river": "blocked-image",  # the safety filter: nothing made, not billed
    "summit": api_error(400, "The prompt is too long for this model.", "INVALID_ARGUMENT"),
}


def test_each_way_a_keyframe_fails_behaves_as_a_veo_submit_and_nothing_is_paid_twice(project, alice, workers, tmp_path):
    with GeminiFake(tmp_path) as gemini, override_settings(PROVIDERS=GEMINI_EVERYWHERE):
        gemini.texts.append(answer(*(shot(f"Maya by the {words}.", characters=["Maya"]) for words in FAILING_SHOTS)))
        gemini.images_for = {words: deque([step]) for words, step in FAILING_SHOTS.items()}
        workers.start(2, **worker_environment(GEMINI_EVERYWHERE, gemini))
        journey = storyboard_journey(project, alice, seconds=20)
        first = run_film(journey, alice)
        keyframes = {words: node for words, node in zip(FAILING_SHOTS, journey.nodes("keyframe"), strict=True)}
        videos = {words: node for words, node in zip(FAILING_SHOTS, journey.nodes("video"), strict=True)}
        asked_first = Counter(gemini_image_prompt(body) for body in gemini.image_requests())
        billed_first = len(gemini.billed("image"))
        submitted_first = Counter(body["instances"][0]["prompt"] for body in gemini.submitted())
        outcome = {words: Job.objects.get(run=first, node=node) for words, node in keyframes.items()}

        again = run_film(journey, alice)  # the user's choice: Gemini answers every keyframe now

    assert first.status == Run.Status.FAILED, workers.logs()
    status = {words: job.status for words, job in outcome.items()}
    assert status == {
        "cliff": Job.Status.NEEDS_ATTENTION,
        "bridge": Job.Status.NEEDS_ATTENTION,
        "lake": Job.Status.SUCCEEDED,
        "river": Job.Status.FAILED,
        "summit": Job.Status.FAILED,
    }
    attention = "Gemini may have started this image; running it again may charge again (about $0.04). "
    assert outcome["cliff"].error_message.startswith(
        attention + f"Gemini did not answer within {IMAGE_TIMEOUT:g} s after the request was sent"
    )
    assert outcome["bridge"].error_message.startswith(attention + "Gemini answered the request with a server error")
    assert outcome["cliff"].cost_actual == outcome["cliff"].cost_estimate  # counted as spent: it may be billed
    assert outcome["river"].error_message.startswith("Gemini made no image: its safety filter stopped it")
    (report,) = Report.objects.filter(project=project)
    assert (report.node_id, report.source, report.job_id) == (keyframes["river"].id, "safety", outcome["river"].id)
    assert outcome["summit"].error_message.startswith(
        "Gemini refused the request (400): The prompt is too long for this model."
    )
    # Each keyframe was asked once, but the rate-limited one, asked again; only the made ones are billed.
    prompt = {words: journey.prompt_of(node) for words, node in keyframes.items()}
    assert asked_first == Counter({prompt[words]: 2 if words == "lake" else 1 for words in FAILING_SHOTS})
    assert billed_first == 3  # cliff and bridge (made, answers lost) and lake
    # A keyframe that did not deliver stops its shot's video and the film; the rest of the film ran.
    first_videos = {words: Job.objects.get(run=first, node=node).status for words, node in videos.items()}
    assert first_videos == {words: "succeeded" if words == "lake" else "canceled" for words in FAILING_SHOTS}
    assert Job.objects.get(run=first, node=journey.film).status == Job.Status.CANCELED
    assert submitted_first == Counter({journey.prompt_of(videos["lake"]): 1})  # Veo saw no other shot
    assert Job.objects.get(run=first, node=journey.nodes("music")[0]).status == Job.Status.SUCCEEDED

    # Running the film again submits anew only what did not deliver: the keyframes of unknown outcome
    # (the user's choice, as for a Veo submit) and the refused ones. Nothing delivered is asked again.
    assert again.status == Run.Status.SUCCEEDED, workers.logs()
    action = {entry["node"]: entry["action"] for entry in again.plan}
    assert {words: action[str(node.id)] for words, node in keyframes.items()} == {
        words: "cached" if words == "lake" else "run" for words in FAILING_SHOTS
    }
    assert action[str(videos["lake"].id)] == action[str(journey.nodes("music")[0].id)] == "cached"
    reason = {entry["node"]: entry["reason"] for entry in again.plan}
    assert reason[str(keyframes["cliff"].id)] == reason[str(keyframes["bridge"].id)] == MAY_CHARGE_AGAIN
    assert reason[str(keyframes["river"].id)] == reason[str(keyframes["summit"].id)] == "never run"
    asked = Counter(gemini_image_prompt(body) for body in gemini.image_requests())
    assert asked == Counter({prompt[words]: 2 for words in FAILING_SHOTS})
    assert len(gemini.billed("image")) == billed_first + 4
    assert len(gemini.billed("music")) == 1
    assert_each_video_starts_on_its_first_frame(journey, gemini)  # every video: one Veo submit in all
    assert_the_film_is_the_storyboards(journey, 20)
