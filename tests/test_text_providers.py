"""Prompt enhancement through the real openai and google-genai SDKs, against loopback servers."""

import base64
import socket

import pytest
from django.test import override_settings

from providers.contract import EnhanceRequest, PermanentProviderError, ProviderNotConfigured, TransientProviderError
from providers.gemini_text import GeminiTextProvider
from providers.openai_text import OpenAITextProvider
from tests.fakes.gemini import GeminiFake
from tests.fakes.gemini import api_error as gemini_error
from tests.fakes.openai import OpenAIFake
from tests.fakes.openai import api_error as openai_error
from tests.fakes.server import Accept, Response
from tests.graphs import FIXTURES

REQUEST = EnhanceRequest(text="a fox in the snow", target_model="veo-3.1-generate-preview", style="noir")
WITH_IMAGE = EnhanceRequest(
    text="make her wave", target_model="veo-3.1-generate-preview", image=FIXTURES / "astronaut.png"
)


@pytest.fixture
def openai_server():
    with (
        OpenAIFake() as fake,
        override_settings(
            OPENAI_API_KEY="sk-test",
            OPENAI_BASE_URL=f"{fake.url}/v1",
            OPENAI_MODEL="gpt-test",
            PROVIDER_TIMEOUT_SECONDS=5,
        ),
    ):
        yield fake


@pytest.fixture
def gemini(tmp_path):
    with (
        GeminiFake(tmp_path) as fake,
        override_settings(
            GEMINI_API_KEY="test-key",
            GEMINI_BASE_URL=fake.url,
            GEMINI_TEXT_MODEL="gemini-test",
            PROVIDER_TIMEOUT_SECONDS=5,
        ),
    ):
        yield fake


@pytest.mark.parametrize("api", ["responses", "chat"])
def test_openai_enhances_with_instructions_for_the_video_model(openai_server, api):
    openai_server.answers.append('Prompt: "A red fox pads through deep snow, slow tracking shot, noir."')

    with override_settings(OPENAI_API=api):
        enhanced = OpenAITextProvider().enhance(REQUEST)

    assert enhanced.text == "A red fox pads through deep snow, slow tracking shot, noir."
    assert (enhanced.provider, enhanced.model) == ("openai", "gpt-test")
    body = openai_server.bodies(f"/v1/{'chat/completions' if api == 'chat' else 'responses'}")[0]
    assert body["model"] == "gpt-test"
    instructions = body["instructions"] if api == "responses" else body["messages"][0]["content"]
    assert "veo-3.1-generate-preview" in instructions and "black-and-white film noir" in instructions
    assert openai_server.requests[0].headers["authorization"] == "Bearer sk-test"


@pytest.mark.parametrize("api", ["responses", "chat"])
def test_openai_sees_the_reference_image(openai_server, api):
    with override_settings(OPENAI_API=api):
        OpenAITextProvider().enhance(WITH_IMAGE)

    body = openai_server.requests[0].json()
    content = body["input"][0]["content"] if api == "responses" else body["messages"][1]["content"]
    image = content[1]["image_url"] if api == "responses" else content[1]["image_url"]["url"]
    assert image.startswith("data:image/png;base64,")
    assert base64.b64decode(image.split(",", 1)[1]) == (FIXTURES / "astronaut.png").read_bytes()


def test_openai_compatible_servers_without_vision_get_text_only(openai_server):
    with override_settings(OPENAI_API="chat", OPENAI_ACCEPTS_IMAGES=False):
        OpenAITextProvider().enhance(WITH_IMAGE)

    assert openai_server.requests[0].json()["messages"][1]["content"] == [{"type": "text", "text": "make her wave"}]


def test_openai_timeouts_and_server_errors_are_transient_with_a_clear_message(openai_server):
    openai_server.answers.extend([Response(200, {}, delay=3), openai_error(503, "overloaded", "server_error")])

    with override_settings(PROVIDER_TIMEOUT_SECONDS=1), pytest.raises(TransientProviderError, match="within 1 s"):
        OpenAITextProvider().enhance(REQUEST)
    with pytest.raises(TransientProviderError, match=r"server error \(503\)"):
        OpenAITextProvider().enhance(REQUEST)


def test_openai_refusals_are_permanent(openai_server):
    openai_server.answers.extend([openai_error(400, "Invalid value for 'model'."), openai_error(401, "Bad key.")])

    with pytest.raises(PermanentProviderError, match="Invalid value for 'model'"):
        OpenAITextProvider().enhance(REQUEST)
    with pytest.raises(ProviderNotConfigured, match="check OPENAI_API_KEY"):
        OpenAITextProvider().enhance(REQUEST)


def test_openai_needs_a_key():
    with override_settings(OPENAI_API_KEY=""), pytest.raises(ProviderNotConfigured, match="OPENAI_API_KEY"):
        OpenAITextProvider()


def test_gemini_enhances_and_sees_the_reference_image(gemini):
    gemini.texts.append("**A woman in a spacesuit waves**, medium shot, soft studio light.")

    enhanced = GeminiTextProvider().enhance(WITH_IMAGE)

    assert enhanced.text == "A woman in a spacesuit waves, medium shot, soft studio light."
    assert (enhanced.provider, enhanced.model) == ("gemini", "gemini-test")
    (request,) = gemini.received("POST", ":generateContent")
    assert request.path == "/v1beta/models/gemini-test:generateContent"
    body = request.json()
    parts = body["contents"][0]["parts"]
    assert parts[0] == {"text": "make her wave"}
    assert base64.urlsafe_b64decode(parts[1]["inlineData"]["data"]) == (FIXTURES / "astronaut.png").read_bytes()
    assert "veo-3.1-generate-preview" in body["systemInstruction"]["parts"][0]["text"]


def test_gemini_rate_limits_and_timeouts_are_transient_refusals_permanent(gemini):
    gemini.texts.extend(
        [
            gemini_error(429, "Quota exceeded.", "RESOURCE_EXHAUSTED"),
            Response(200, {}, delay=3),
            gemini_error(400, "Request contains an invalid argument.", "INVALID_ARGUMENT"),
        ]
    )
    provider = GeminiTextProvider()

    with pytest.raises(TransientProviderError, match="429"):
        provider.enhance(REQUEST)
    with override_settings(PROVIDER_TIMEOUT_SECONDS=1), pytest.raises(TransientProviderError, match="did not answer"):
        GeminiTextProvider().enhance(REQUEST)
    with pytest.raises(PermanentProviderError, match="invalid argument"):
        provider.enhance(REQUEST)


def closed_port() -> str:
    """The address of a port nothing listens on: a connection to it is refused, nothing is sent."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def test_openai_says_whether_the_connection_never_opened_or_broke_before_the_answer(openai_server):
    openai_server.answers.append(Accept(drop=True))

    with pytest.raises(TransientProviderError) as broke:
        OpenAITextProvider().enhance(REQUEST)
    with (
        override_settings(OPENAI_BASE_URL=f"{closed_port()}/v1"),
        pytest.raises(TransientProviderError) as refused,
    ):
        OpenAITextProvider().enhance(REQUEST)

    assert broke.value.message == "The connection to OpenAI broke before it answered (RemoteProtocolError)."
    assert refused.value.message.startswith("OpenAI could not be reached (") and ".." not in refused.value.message
    assert len(openai_server.billed("text")) == 1  # the dropped answer was made, and billed


def test_gemini_says_whether_the_connection_never_opened_or_broke_before_the_answer(gemini):
    gemini.texts.append(Accept(drop=True))

    with pytest.raises(TransientProviderError) as broke:
        GeminiTextProvider().enhance(REQUEST)
    with override_settings(GEMINI_BASE_URL=closed_port()), pytest.raises(TransientProviderError) as refused:
        GeminiTextProvider().enhance(REQUEST)

    assert broke.value.message == "The connection to Gemini broke before it answered (RemoteProtocolError)."
    assert refused.value.message.startswith("Gemini could not be reached (") and ".." not in refused.value.message
    assert len(gemini.billed("text")) == 1
