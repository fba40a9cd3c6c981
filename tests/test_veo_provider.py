"""The Veo adapter through the real google-genai SDK, against a loopback server speaking the Gemini API."""

import base64
import socket

import pytest
from django.test import override_settings

from assets import media
from providers.contract import (
    PermanentProviderError,
    ProviderNotConfigured,
    SafetyBlocked,
    SubmitOutcomeUnknown,
    TransientProviderError,
    VideoRequest,
    VideoSource,
)
from providers.veo import VeoProvider
from tests.fakes.gemini import Accept, GeminiFake, api_error
from tests.fakes.server import Response
from tests.graphs import FIXTURES

MODEL = "veo-3.1-generate-preview"
ASTRONAUT = FIXTURES / "astronaut.png"


@pytest.fixture
def gemini(tmp_path):
    with (
        GeminiFake(tmp_path) as fake,
        override_settings(
            GEMINI_API_KEY="test-key", GEMINI_BASE_URL=fake.url, PROVIDER_TIMEOUT_SECONDS=5, VEO_POLL_SECONDS=0.1
        ),
    ):
        yield fake


def generate(request: VideoRequest, workdir, **download):
    veo = VeoProvider()
    operation = veo.submit(request)
    assert veo.poll(operation).done
    return operation, veo.download(operation, workdir, **download)


def text(prompt="A red kite over the dunes", **fields):
    return VideoRequest(prompt=prompt, **({"model": MODEL} | fields))


def test_text_to_video_sends_the_request_veo_expects_and_stores_the_video(gemini, tmp_path):
    operation, video = generate(text(duration_seconds=6, aspect_ratio="9:16", negative_prompt="no text"), tmp_path)

    (body,) = gemini.submitted()
    assert body["instances"] == [{"prompt": "A red kite over the dunes"}]
    assert body["parameters"] == {
        "sampleCount": 1,
        "durationSeconds": 6,
        "aspectRatio": "9:16",
        "resolution": "720p",
        "personGeneration": "allow_all",
        "negativePrompt": "no text",
    }
    assert operation.startswith(f"models/{MODEL}/operations/")
    assert (video.model, video.includes_source, video.billed_seconds) == (MODEL, False, 6.0)
    assert video.uri.startswith("https://generativelanguage.googleapis.com/v1beta/files/")
    assert video.uri_expires_at is not None
    assert media.probe(video.path).duration == 6.0
    assert gemini.requests[0].headers["x-goog-api-key"] == "test-key"


def test_image_to_video_sends_the_first_frame_and_allows_adults_only(gemini, tmp_path):
    generate(text(first_frame=ASTRONAUT), tmp_path)

    (body,) = gemini.submitted()
    image = body["instances"][0]["image"]
    assert base64.b64decode(image["bytesBase64Encoded"]) == ASTRONAUT.read_bytes()
    assert image["mimeType"] == "image/png"
    assert body["parameters"]["personGeneration"] == "allow_adult"


def test_first_and_last_frames_are_both_sent(gemini, tmp_path):
    generate(text(first_frame=ASTRONAUT, last_frame=FIXTURES / "chelsea.png"), tmp_path)

    instance = gemini.submitted()[0]["instances"][0]
    assert base64.b64decode(instance["lastFrame"]["bytesBase64Encoded"]) == (FIXTURES / "chelsea.png").read_bytes()


def test_up_to_three_characters_are_sent_as_asset_references(gemini, tmp_path):
    generate(text(reference_images=(ASTRONAUT, ASTRONAUT)), tmp_path)

    references = gemini.submitted()[0]["instances"][0]["referenceImages"]
    assert [reference["referenceType"].lower() for reference in references] == ["asset", "asset"]
    assert base64.b64decode(references[0]["image"]["bytesBase64Encoded"]) == ASTRONAUT.read_bytes()


def test_an_extension_passes_the_earlier_veo_video_and_gets_the_whole_video_back(gemini, tmp_path):
    _, first = generate(text(), tmp_path)

    _, extended = generate(
        text("She turns around", extend=VideoSource(first.path, provider="veo", uri=first.uri)),
        tmp_path,
        extension=True,
    )

    body = gemini.submitted()[1]
    assert body["instances"][0]["video"]["uri"] == first.uri
    assert body["parameters"]["personGeneration"] == "allow_all"
    assert (extended.includes_source, extended.billed_seconds) == (True, 7)
    assert media.probe(extended.path).duration == pytest.approx(15, abs=1 / 24)


def test_a_safety_block_is_permanent_and_says_why(gemini, tmp_path):
    gemini.outcomes.append("blocked")
    veo = VeoProvider()
    operation = veo.submit(text("A famous actor"))

    with pytest.raises(SafetyBlocked) as blocked:
        veo.poll(operation)

    assert "public figures" in blocked.value.message
    assert not blocked.value.transient
    assert blocked.value.details["reasons"]


def test_a_bad_request_is_permanent_with_googles_message(gemini):
    gemini.submits.append(api_error(400, "Image-to-video is not supported for this model.", "INVALID_ARGUMENT"))

    with pytest.raises(PermanentProviderError, match="Image-to-video is not supported") as refused:
        VeoProvider().submit(text(first_frame=ASTRONAUT))
    assert not refused.value.transient


def test_a_rate_limit_is_transient_and_the_next_try_succeeds(gemini, tmp_path):
    gemini.submits.append(api_error(429, "Resource has been exhausted.", "RESOURCE_EXHAUSTED"))
    veo = VeoProvider()

    with pytest.raises(TransientProviderError, match="429"):
        veo.submit(text())
    operation = veo.submit(text())

    assert veo.poll(operation).done
    assert len(gemini.submitted()) == 2


def test_a_server_error_while_polling_is_transient(gemini):
    operation = VeoProvider().submit(text())
    gemini.poll_answers.append(api_error(503, "The service is currently unavailable.", "UNAVAILABLE"))

    with pytest.raises(TransientProviderError, match="server error"):
        VeoProvider().poll(operation)
    assert VeoProvider().poll(operation).done


def test_a_server_error_answering_a_submit_is_an_unknown_outcome_not_a_retry(gemini):
    gemini.submits.append(api_error(500, "Internal error encountered.", "INTERNAL"))

    with pytest.raises(SubmitOutcomeUnknown, match="server error \\(500\\)") as unknown:
        VeoProvider().submit(text())
    assert not unknown.value.transient


def test_an_operation_error_fails_with_its_message(gemini):
    gemini.outcomes.append(("error", "Video generation failed due to an internal error."))
    veo = VeoProvider()
    operation = veo.submit(text())

    with pytest.raises(PermanentProviderError, match="internal error") as failed:
        veo.poll(operation)
    assert failed.value.code == "operation_failed"


def test_an_operation_is_resumed_by_its_name_from_a_new_process(gemini, tmp_path):
    gemini.polls = 3
    operation = VeoProvider().submit(text())

    # Another worker, later: a fresh client knows only the stored name.
    assert not VeoProvider().poll(operation).done
    assert not VeoProvider().poll(operation).done
    assert VeoProvider().poll(operation).done
    video = VeoProvider().download(operation, tmp_path)

    assert media.probe(video.path).duration == 8.0
    assert len(gemini.submitted()) == 1


@pytest.mark.parametrize(
    ("request_fields", "complaint"),
    [
        ({"resolution": "1080p", "duration_seconds": 6}, "1080p videos must be 8 seconds long"),
        ({"last_frame": ASTRONAUT}, "a last frame needs a first frame"),
        (
            {"first_frame": ASTRONAUT, "last_frame": ASTRONAUT, "duration_seconds": 6},
            "from a first and a last frame must be 8 seconds long",
        ),
        ({"reference_images": (ASTRONAUT,), "first_frame": ASTRONAUT}, "cannot be combined"),
        ({"reference_images": (ASTRONAUT,) * 4}, "at most 3"),
        ({"model": "veo-3.1-fast-generate-preview", "reference_images": (ASTRONAUT,)}, "does not take character"),
        ({"extend": VideoSource(ASTRONAUT, provider="local")}, "was not made by Veo"),
        ({"model": "veo-9"}, "not enabled here"),
    ],
)
def test_what_veo_would_refuse_is_refused_before_anything_is_sent(gemini, request_fields, complaint):
    request = text(**request_fields)

    with pytest.raises(PermanentProviderError, match=complaint):
        VeoProvider().submit(request)
    assert gemini.submitted() == []


def test_without_a_key_veo_says_what_to_set():
    with override_settings(GEMINI_API_KEY=""), pytest.raises(ProviderNotConfigured, match="GEMINI_API_KEY"):
        VeoProvider()


def test_a_poll_that_hangs_times_out_as_a_transient_error(gemini):
    operation = VeoProvider().submit(text())
    gemini.poll_answers.append(Response(200, {"name": operation, "done": False}, delay=3))

    with override_settings(PROVIDER_TIMEOUT_SECONDS=1), pytest.raises(TransientProviderError, match="did not answer"):
        VeoProvider().poll(operation)


def test_a_submit_accepted_but_answered_after_the_timeout_is_an_unknown_outcome(gemini):
    gemini.submits.append(Accept(delay=3))

    with override_settings(VEO_SUBMIT_TIMEOUT_SECONDS=1), pytest.raises(SubmitOutcomeUnknown) as unknown:
        VeoProvider().submit(text())

    assert "did not answer within 1 s after the request was sent" in unknown.value.message
    assert not unknown.value.transient
    assert gemini.operations_created == 1


def test_a_submit_whose_connection_drops_after_sending_is_an_unknown_outcome(gemini):
    gemini.submits.append(Accept(drop=True))

    with pytest.raises(SubmitOutcomeUnknown, match="connection to Veo broke after the request was sent"):
        VeoProvider().submit(text())
    assert gemini.operations_created == 1


def test_the_submit_has_its_own_longer_timeout(gemini):
    gemini.submits.append(Accept(delay=2))

    with override_settings(PROVIDER_TIMEOUT_SECONDS=1, VEO_SUBMIT_TIMEOUT_SECONDS=10):
        operation = VeoProvider().submit(text())

    assert operation in gemini.operations and gemini.operations_created == 1


def test_a_refused_connection_proves_nothing_was_sent_and_is_transient(gemini):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # bound, never listening: connections to it are refused
        with override_settings(GEMINI_BASE_URL=f"http://127.0.0.1:{port}"), pytest.raises(TransientProviderError):
            VeoProvider().submit(text())
    assert gemini.operations_created == 0
