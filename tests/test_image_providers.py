"""Image generation through the real google-genai and openai SDKs against loopback servers that speak
their REST protocols, and the offline still: what each request carries, what comes back, and how each
way of failing is told (a safety block, a refusal, a rate limit, an answer lost after the work)."""

import base64

import pytest
from django.test import override_settings
from PIL import Image

from providers.contract import (
    ImageRequest,
    PermanentProviderError,
    SafetyBlocked,
    SubmitOutcomeUnknown,
    TransientProviderError,
    image_dimensions,
)
from providers.gemini_image import GeminiImageProvider
from providers.local_image import LocalImageProvider
from providers.openai_image import OpenAIImageProvider
from tests.fakes import openai
from tests.fakes.gemini import GeminiFake
from tests.fakes.gemini import api_error as gemini_error
from tests.fakes.openai import MODERATION_BLOCKED, OpenAIFake
from tests.fakes.openai import api_error as openai_error
from tests.fakes.server import Accept, Response
from tests.graphs import FIXTURES

FACE = FIXTURES / "astronaut.png"
CAT = FIXTURES / "chelsea.png"


@pytest.fixture
def gemini(tmp_path):
    with (
        GeminiFake(tmp_path) as fake,
        override_settings(GEMINI_API_KEY="test-key", GEMINI_BASE_URL=fake.url, IMAGE_TIMEOUT_SECONDS=2),
    ):
        yield fake


@pytest.fixture
def openai_server():
    with (
        OpenAIFake() as fake,
        override_settings(OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=f"{fake.url}/v1", IMAGE_TIMEOUT_SECONDS=2),
    ):
        yield fake


def size_of(path) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size


@pytest.mark.parametrize(
    ("aspect", "size", "expected"),
    [
        ("16:9", "1K", (1024, 576)),
        ("9:16", "1K", (576, 1024)),
        ("1:1", "2K", (2048, 2048)),
        ("4:3", "2K", (2048, 1536)),
    ],
)
def test_sizes_are_the_long_side_with_even_sides(aspect, size, expected):
    assert image_dimensions(aspect, size) == expected


# Offline -------------------------------------------------------------------------------------------


def test_the_offline_still_is_the_size_asked_for_and_shows_its_reference(tmp_path):
    request = ImageRequest(prompt="a lighthouse at dusk", model="", aspect_ratio="9:16", references=(CAT,))

    made = LocalImageProvider().generate(request, tmp_path)

    assert (made.model, made.mime) == ("reelgraph-offline-still", "image/png")
    assert size_of(made.path) == (576, 1024)
    # The reference fills the frame: the middle of the still is the middle of the cat photo, not a gradient.
    with Image.open(made.path) as still, Image.open(CAT) as cat:
        middle = still.convert("RGB").getpixel((288, 512))
        cat_middle = cat.convert("RGB").getpixel((cat.width // 2, cat.height // 2))
    assert sum(abs(a - b) for a, b in zip(middle, cat_middle, strict=True)) < 60


def test_the_offline_still_is_the_same_for_the_same_request_and_differs_with_the_prompt(tmp_path):
    provider = LocalImageProvider()
    first = provider.generate(ImageRequest(prompt="a red door", model=""), tmp_path)
    again_dir = tmp_path / "again"
    again_dir.mkdir()
    again = provider.generate(ImageRequest(prompt="a red door", model=""), again_dir)
    other = provider.generate(ImageRequest(prompt="a blue window", model=""), again_dir)

    assert first.path.read_bytes() == again.path.read_bytes()
    assert other.path.read_bytes() != again.path.read_bytes()
    assert size_of(first.path) == (1024, 576)


# Gemini --------------------------------------------------------------------------------------------


def test_gemini_is_asked_for_an_image_with_the_references_first_then_the_prompt(gemini, tmp_path):
    request = ImageRequest(
        prompt="the astronaut on a red beach",
        model="gemini-3-pro-image",
        aspect_ratio="9:16",
        size="2K",
        references=(CAT, FACE),
    )

    made = GeminiImageProvider().generate(request, tmp_path)

    (body,) = gemini.image_requests()
    (call,) = gemini.received("POST", ":generateContent")
    assert call.path.endswith("/models/gemini-3-pro-image:generateContent")
    config = body["generationConfig"]
    assert config["responseModalities"] == ["IMAGE"]
    assert config["imageConfig"] == {"aspectRatio": "9:16", "imageSize": "2K"}
    parts = body["contents"][0]["parts"]
    # The SDK sends bytes in URL-safe base64.
    pictures = [base64.urlsafe_b64decode(part["inlineData"]["data"]) for part in parts[:2]]
    assert pictures == [CAT.read_bytes(), FACE.read_bytes()]
    assert parts[2] == {"text": "the astronaut on a red beach"}
    assert size_of(made.path) == (9 * 16, 16 * 16)  # the fake's picture of the aspect asked for
    assert (made.model, gemini.billed("image")) == ("gemini-3-pro-image", ["9:16 2K"])


def test_gemini_uses_the_configured_default_model_when_none_is_chosen(gemini, tmp_path):
    GeminiImageProvider().generate(ImageRequest(prompt="a fox", model=""), tmp_path)

    (call,) = gemini.received("POST", ":generateContent")
    assert call.path.endswith("/models/gemini-3.1-flash-image:generateContent")


@pytest.mark.parametrize(
    ("answer", "error", "words"),
    [
        ("blocked-prompt", SafetyBlocked, "Gemini blocked the prompt (PROHIBITED_CONTENT): The prompt was blocked."),
        ("blocked-image", SafetyBlocked, "Gemini made no image: its safety filter stopped it (IMAGE_SAFETY)."),
        ("no-image", PermanentProviderError, "Gemini answered without an image (NO_IMAGE)."),
    ],
)
def test_gemini_answers_without_an_image_say_why(gemini, tmp_path, answer, error, words):
    gemini.images.append(answer)

    with pytest.raises(error) as raised:
        GeminiImageProvider().generate(ImageRequest(prompt="a fox", model=""), tmp_path)

    assert raised.type is error
    assert raised.value.message.startswith(words)
    assert gemini.billed("image") == []
    assert list(tmp_path.iterdir()) == []  # nothing written


@pytest.mark.parametrize(
    ("script", "error", "words"),
    [
        (gemini_error(429, "Resource has been exhausted.", "RESOURCE_EXHAUSTED"), TransientProviderError, "429"),
        (gemini_error(400, "Image size 8K is not supported.", "INVALID_ARGUMENT"), PermanentProviderError, "400"),
        (gemini_error(500, "Internal error encountered.", "INTERNAL"), SubmitOutcomeUnknown, "server error (500)"),
        (Accept(delay=4), SubmitOutcomeUnknown, "did not answer within 2 s after the request was sent"),
        (Accept(drop=True), SubmitOutcomeUnknown, "broke after the request was sent"),
    ],
)
def test_gemini_failures_retry_only_what_proves_nothing_was_made(gemini, tmp_path, script, error, words):
    gemini.images.append(script)

    with pytest.raises(error) as raised:
        GeminiImageProvider().generate(ImageRequest(prompt="a fox", model=""), tmp_path)

    assert raised.type is error and words in raised.value.message


# OpenAI --------------------------------------------------------------------------------------------


def test_openai_generates_from_a_prompt_and_crops_to_the_aspect(openai_server, tmp_path):
    made = OpenAIImageProvider().generate(ImageRequest(prompt="a red door", model="", aspect_ratio="16:9"), tmp_path)

    (body,) = openai_server.bodies("/v1/images/generations")
    assert body == {"model": "gpt-image-2", "prompt": "a red door", "size": "1536x1024", "n": 1, "output_format": "png"}
    assert size_of(made.path) == (1024, 576)
    assert made.note == "OpenAI made 1536x1024; cut to 16:9 (1024x576) around the centre."
    assert openai_server.billed("image") == ["1536x1024"]


def test_openai_edits_with_every_reference_picture(openai_server, tmp_path):
    request = ImageRequest(prompt="her on a beach", model="gpt-image-1.5", aspect_ratio="1:1", references=(FACE, CAT))

    made = OpenAIImageProvider().generate(request, tmp_path)

    (call,) = openai_server.received("POST", "/v1/images/edits")
    fields = openai.form(call)
    assert fields["image[]"] == [FACE.read_bytes(), CAT.read_bytes()]
    assert (fields["prompt"], fields["model"], fields["size"]) == ("her on a beach", "gpt-image-1.5", "1024x1024")
    assert openai_server.received("POST", "/v1/images/generations") == []
    assert size_of(made.path) == (1024, 1024)


@pytest.mark.parametrize(
    ("script", "error", "words"),
    [
        (Response(400, MODERATION_BLOCKED), SafetyBlocked, "OpenAI's safety system refused the request"),
        (openai_error(429, "Rate limit reached.", "rate_limit_exceeded"), TransientProviderError, "429"),
        (openai_error(400, "Invalid size.", "invalid_request_error"), PermanentProviderError, "(400): Invalid size."),
        (openai_error(500, "The server had an error.", "server_error"), SubmitOutcomeUnknown, "server error (500)"),
        (Accept(delay=4), SubmitOutcomeUnknown, "did not answer within 2 s"),
        (Accept(drop=True), SubmitOutcomeUnknown, "broke after the request was sent"),
    ],
)
def test_openai_failures_retry_only_what_proves_nothing_was_made(openai_server, tmp_path, script, error, words):
    openai_server.images.append(script)

    with pytest.raises(error) as raised:
        OpenAIImageProvider().generate(ImageRequest(prompt="a fox", model=""), tmp_path)

    assert raised.type is error and words in raised.value.message
