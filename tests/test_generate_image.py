"""The Generate image node in runs: a keyframe made offline feeds a video's first frame; with Gemini and
OpenAI (loopback fakes, the real SDKs) the references and characters go with the request, the cost is
estimated and counted once, a safety block goes to moderation unbilled, and an answer lost after the
picture was made is never asked for again on its own. The steps run in this process, as a worker runs them."""

import base64
from decimal import Decimal

import pytest
from django.test import override_settings
from PIL import Image, ImageStat

from assets import media
from assets.models import Asset
from generation import quotas, running
from generation.models import Job, Report, Run
from generation.planning import plan_run
from generation.reconcile import reconcile
from nodes.models import Node
from tests.api import Api, error_of
from tests.engine_helpers import asset_path
from tests.fakes import openai
from tests.fakes.gemini import Accept, GeminiFake
from tests.fakes.openai import MODERATION_BLOCKED, OpenAIFake
from tests.fakes.server import Response
from tests.graphs import FIXTURES, add, run_here, upload, wire

pytestmark = [pytest.mark.django_db(transaction=True)]

GEMINI = {"video": "local", "text": "local", "image": "gemini", "faces": "local"}
OPENAI = {"video": "local", "text": "local", "image": "openai", "faces": "local"}


@pytest.fixture
def gemini(tmp_path, redis):
    with (
        GeminiFake(tmp_path) as fake,
        override_settings(
            GEMINI_API_KEY="test-key", GEMINI_BASE_URL=fake.url, PROVIDERS=GEMINI, IMAGE_TIMEOUT_SECONDS=1
        ),
    ):
        yield fake


@pytest.fixture
def openai_server(redis):
    with (
        OpenAIFake() as fake,
        override_settings(
            OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=f"{fake.url}/v1", PROVIDERS=OPENAI, IMAGE_TIMEOUT_SECONDS=1
        ),
    ):
        yield fake


def keyframe(project, text="A lighthouse on a cliff at dusk, wide shot", **params) -> tuple[Node, Node]:
    prompt = add(project, "prompt", "Keyframe prompt", text=text)
    image = add(project, "generate_image", "Keyframe", **params)
    wire(prompt, "text", image, "prompt")
    return prompt, image


def photo(project, name: str, title: str) -> Node:
    return add(project, "image", title, asset_id=str(upload(project, name).id))


def mean_colour(path, box) -> tuple[float, ...]:
    with Image.open(path) as picture:
        return tuple(ImageStat.Stat(picture.convert("RGB").crop(box)).mean)


def test_an_offline_keyframe_is_the_first_frame_of_the_video_made_from_it(project, alice, redis, tmp_path):
    look = photo(project, "chelsea.png", "Look")
    prompt, image = keyframe(project, aspect_ratio="16:9")
    wire(look, "image", image, "references")
    video = add(project, "video", "Shot", duration_seconds=4)
    wire(prompt, "text", video, "prompt")
    wire(image, "image", video, "first_frame")

    run = plan_run(project, [video.id], user=alice).run
    job = run_here(run, look, prompt, image, video)
    while job.status == Job.Status.RUNNING:  # the video waits on its operation: polled as a worker would
        running.poll_job(str(job.id))
        job.refresh_from_db()

    assert job.status == Job.Status.SUCCEEDED, job.error_message
    image.refresh_from_db()
    still = Asset.objects.get(pk=image.output["image"])
    assert (still.kind, still.provider, still.model) == ("image", "local", "reelgraph-offline-still")
    assert (still.width, still.height) == (1024, 576)
    assert (image.selected_take.provider, image.selected_take.model) == ("local", "reelgraph-offline-still")
    assert Job.objects.get(run=run, node=image).cost_actual == Decimal("0")  # offline costs nothing
    # The video starts on the keyframe: the middle of its first frame has the still's colours (the cat).
    video.refresh_from_db()
    first = media.frame_at(asset_path(video.output["video"]), tmp_path / "first.png", 0.0)
    still_colour = mean_colour(asset_path(still.id), (412, 188, 612, 388))
    first_colour = mean_colour(first, (515, 235, 765, 485))  # the same part of a 1280x720 frame
    assert sum(abs(a - b) for a, b in zip(still_colour, first_colour, strict=True)) < 45


def test_gemini_gets_the_references_then_the_characters_faces_and_the_cost_is_counted_once(project, alice, gemini):
    look = photo(project, "chelsea.png", "Look")
    face = photo(project, "astronaut.png", "Ada")
    prompt, image = keyframe(project, aspect_ratio="9:16", size="2K", model="gemini-3-pro-image")
    wire(look, "image", image, "references")
    wire(face, "character", image, "characters")

    plan = plan_run(project, [image.id], user=alice)
    job = run_here(plan.run, look, face, prompt, image)

    assert job.status == Job.Status.SUCCEEDED, job.error_message
    (body,) = gemini.image_requests()
    parts = body["contents"][0]["parts"]
    pictures = [base64.urlsafe_b64decode(part["inlineData"]["data"]) for part in parts[:-1]]
    face.refresh_from_db()
    character_photo = asset_path(face.output["image"]).read_bytes()
    assert pictures == [(FIXTURES / "chelsea.png").read_bytes(), character_photo]
    assert parts[-1] == {"text": "A lighthouse on a cliff at dusk, wide shot"}
    assert body["generationConfig"]["imageConfig"] == {"aspectRatio": "9:16", "imageSize": "2K"}
    planned = next(p for p in plan.nodes if p.node_id == str(image.id))
    assert planned.cost == job.cost_estimate == job.cost_actual == Decimal("0.1340")  # the pro model's price
    assert (job.provider, job.model) == ("gemini", "gemini-3-pro-image")
    assert gemini.billed("image") == ["9:16 2K"]
    assert "submitting" not in job.state


def test_a_picture_made_but_its_answer_lost_needs_attention_and_is_not_asked_for_again(project, alice, gemini):
    prompt, image = keyframe(project)
    gemini.images.append(Accept(drop=True))

    run = plan_run(project, [image.id], user=alice).run
    job = run_here(run, prompt, image)

    assert job.status == Job.Status.NEEDS_ATTENTION
    assert job.error_message.startswith(
        "Gemini may have started this image; running it again may charge again (about $0.04). "
        "The connection to Gemini broke after the request was sent"
    )
    assert job.cost_actual == job.cost_estimate == Decimal("0.0390")
    assert quotas.spent_today(Job.objects.filter(created_by=alice)) == Decimal("0.0390")
    image.refresh_from_db()
    assert (image.status, image.output) == (Node.Status.NEEDS_ATTENTION, {})
    # Nothing takes it up again on its own: not the reconciler, not a late delivery of the RQ job.
    reconcile()
    running.run_job(str(job.id))
    job.refresh_from_db()
    assert job.status == Job.Status.NEEDS_ATTENTION
    assert len(gemini.image_requests()) == 1 and len(gemini.billed("image")) == 1


def test_a_worker_that_died_while_asking_for_a_picture_leaves_it_to_the_user(project, alice, gemini):
    prompt, image = keyframe(project)
    run = plan_run(project, [image.id], user=alice).run
    run_here(run, prompt)
    job = Job.objects.get(run=run, node=image)
    submitting = {"at": "", "provider": "Gemini", "made": "image"}
    Job.objects.filter(pk=job.pk).update(state={**job.state, "submitting": submitting})

    job = run_here(run, image)

    assert job.status == Job.Status.NEEDS_ATTENTION
    assert job.error_message.startswith("Gemini may have started this image")
    assert gemini.image_requests() == []


@pytest.mark.parametrize("answer", ["blocked-prompt", "blocked-image"])
def test_a_safety_block_fails_the_node_unbilled_and_goes_to_moderation(project, alice, gemini, answer):
    prompt, image = keyframe(project, text="something the filter stops")
    gemini.images.append(answer)

    run = plan_run(project, [image.id], user=alice).run
    job = run_here(run, prompt, image)

    assert (job.status, job.error_code) == (Job.Status.FAILED, "safety_blocked")
    assert job.cost_actual in (None, Decimal("0"))
    assert quotas.spent_today(Job.objects.filter(created_by=alice)) == Decimal("0")
    (report,) = Report.objects.filter(project=project)
    assert (report.source, report.node_id, report.job_id) == (Report.Source.SAFETY, image.id, job.id)
    assert report.reason == job.error_message
    assert job.attempts == 1 and len(gemini.image_requests()) == 1
    assert Run.objects.get(pk=run.pk).status == Run.Status.FAILED


def test_openai_edits_with_the_references_and_the_keyframe_is_cut_to_the_aspect(project, alice, openai_server):
    face = photo(project, "astronaut.png", "Ada")
    prompt, image = keyframe(project, aspect_ratio="16:9")
    wire(face, "character", image, "characters")

    run = plan_run(project, [image.id], user=alice).run
    job = run_here(run, face, prompt, image)

    assert job.status == Job.Status.SUCCEEDED, job.error_message
    (call,) = openai_server.received("POST", "/v1/images/edits")
    fields = openai.form(call)
    face.refresh_from_db()
    assert fields["image[]"] == [asset_path(face.output["image"]).read_bytes()]
    assert (fields["model"], fields["size"]) == ("gpt-image-2", "1536x1024")
    image.refresh_from_db()
    still = Asset.objects.get(pk=image.output["image"])
    assert (still.width, still.height, still.provider, still.model) == (1024, 576, "openai", "gpt-image-2")
    notice = "OpenAI made 1536x1024; cut to 16:9 (1024x576) around the centre."
    assert image.selected_take.details["notice"] == notice
    assert job.cost_actual == Decimal("0.0530")


def test_an_openai_moderation_refusal_is_a_safety_block(project, alice, openai_server):
    prompt, image = keyframe(project)
    openai_server.images.append(Response(400, MODERATION_BLOCKED))

    run = plan_run(project, [image.id], user=alice).run
    job = run_here(run, prompt, image)

    assert (job.status, job.error_code) == (Job.Status.FAILED, "safety_blocked")
    assert (
        job.error_message
        == "OpenAI's safety system refused the request: Your request was rejected by the safety system."
    )
    assert Report.objects.filter(job=job, source=Report.Source.SAFETY).count() == 1
    assert openai_server.billed("image") == []


def test_a_model_the_provider_does_not_offer_is_refused_with_the_choices(project, alice, redis):
    api = Api(alice)

    refused = api.post(
        f"/projects/{project.id}/nodes", {"type": "generate_image", "params": {"model": "imagen-4.0-generate-001"}}
    )

    assert refused.status_code == 422
    error = error_of(refused)
    assert "choose one of reelgraph-offline-still, or leave it empty for the default" in error["message"]
    assert not Node.objects.filter(project=project).exists()


def test_the_node_type_is_offered_with_its_ports_and_settings(alice, redis):
    types = {entry["name"]: entry for entry in Api(alice).get("/node-types").json()}

    generate = types["generate_image"]
    assert [(p["name"], p["kind"], p["required"], p["multi"]) for p in generate["inputs"]] == [
        ("prompt", "text", True, False),
        ("references", "image", False, True),
        ("characters", "character", False, True),
    ]
    assert [(p["name"], p["kind"]) for p in generate["outputs"]] == [("image", "image")]
    settings_schema = generate["params_schema"]["properties"]
    assert settings_schema["aspect_ratio"]["enum"] == ["16:9", "9:16", "1:1", "4:3", "3:4"]
    assert settings_schema["model"]["enum"] == ["", "reelgraph-offline-still"]


def test_a_generated_keyframe_can_feed_a_video_another_image_and_a_prompt(project, alice, redis):
    _, image = keyframe(project)
    video = add(project, "video", "Shot")
    second = add(project, "generate_image", "Variation")
    enhance = add(project, "prompt", "Describe", text="describe it", enhance=True)

    for target, port in ((video, "first_frame"), (second, "references"), (enhance, "image")):
        wire(image, "image", target, port)

    assert sorted(e.target_port for e in image.outgoing.all()) == ["first_frame", "image", "references"]
