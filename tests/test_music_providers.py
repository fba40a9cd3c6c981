"""Music through the real google-genai SDK's Interactions API (Lyria 3) against a loopback server that
speaks its REST protocol, and the offline music bed: what each request carries, that what comes back is
real audio of exactly the requested length, and how each way of failing is told (a safety block, a
refusal, a rate limit, an answer lost after the music was made)."""

import pytest
from django.test import override_settings

from assets import media
from providers.contract import (
    MusicRequest,
    PermanentProviderError,
    SafetyBlocked,
    SubmitOutcomeUnknown,
    TransientProviderError,
)
from providers.local_music import LocalMusicProvider
from providers.lyria_music import LyriaMusicProvider
from tests.fakes.gemini import GeminiFake
from tests.fakes.server import Accept, Response


@pytest.fixture
def lyria(tmp_path):
    with (
        GeminiFake(tmp_path / "fake") as fake,
        override_settings(GEMINI_API_KEY="test-key", GEMINI_BASE_URL=fake.url, MUSIC_TIMEOUT_SECONDS=2),
    ):
        (tmp_path / "fake").mkdir()
        yield fake


def interaction_error(status: int, code: str, message: str) -> Response:
    return Response(status, {"error": {"code": code, "message": message}})


def length_of(path) -> float:
    return media.probe(path).duration


# Offline -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seconds", [5, 37.5, 180])
def test_the_offline_music_is_real_audio_of_exactly_the_length_asked_for(tmp_path, seconds):
    made = LocalMusicProvider().generate(MusicRequest(prompt="a slow waltz", model="", seconds=seconds), tmp_path)

    info = media.probe(made.path)
    assert (info.audio_codec, info.audio_sample_rate, info.has_video) == ("aac", 48000, False)
    assert abs(info.duration - seconds) <= 0.1
    assert (made.model, made.mime, made.seconds) == ("reelgraph-offline-music", "audio/mp4", seconds)
    assert made.note == "Offline render - synthesised chords, not AI-generated"


# Lyria ---------------------------------------------------------------------------------------------


def test_lyria_is_asked_with_the_prompt_and_model_and_a_longer_piece_is_looped(lyria, tmp_path):
    request = MusicRequest(prompt="a hopeful string quartet", model="lyria-3-clip-preview", seconds=45)

    made = LyriaMusicProvider().generate(request, tmp_path)

    (call,) = lyria.received("POST", "/interactions")
    assert call.path == "/v1beta/interactions"
    assert call.headers["x-goog-api-key"] == "test-key"
    assert call.json()["model"] == "lyria-3-clip-preview"
    assert call.json()["input"] == "a hopeful string quartet"  # the clip model's length cannot be asked for
    info = media.probe(made.path)
    assert (info.audio_codec, info.audio_sample_rate) == ("aac", 48000)
    assert abs(info.duration - 45) <= 0.1
    assert made.note == "Google Lyria made 30 s; looped to 45 s with a fade-out."
    assert (made.model, lyria.billed("music")) == ("lyria-3-clip-preview", ["lyria-3-clip-preview"])


def test_a_shorter_piece_is_cut_and_a_full_length_model_is_told_the_length(lyria, tmp_path):
    made = LyriaMusicProvider().generate(MusicRequest(prompt="a jazz trio", model="lyria-3.5", seconds=12), tmp_path)

    (body,) = lyria.music_requests()
    assert (body["model"], body["input"]) == ("lyria-3.5", "a jazz trio\n\nLength: about 12 seconds.")
    assert abs(length_of(made.path) - 12) <= 0.1
    assert made.note == "Google Lyria made 30 s; cut to 12 s with a fade-out."


def test_lyria_uses_the_configured_default_model_and_a_piece_of_the_right_length_is_kept_as_is(lyria, tmp_path):
    made = LyriaMusicProvider().generate(MusicRequest(prompt="rain", model="", seconds=30), tmp_path)

    assert lyria.music_requests()[0]["model"] == "lyria-3-clip-preview"
    assert abs(length_of(made.path) - 30) <= 0.1
    assert made.note == ""


@pytest.mark.parametrize(
    ("answer", "error", "words"),
    [
        ("blocked", SafetyBlocked, "Google Lyria made no music: its safety filter stopped it: prompt_blocked"),
        ("no-audio", PermanentProviderError, "Google Lyria answered without music (status completed)."),
    ],
)
def test_lyria_answers_without_music_say_why(lyria, tmp_path, answer, error, words):
    lyria.music.append(answer)

    with pytest.raises(error) as raised:
        LyriaMusicProvider().generate(MusicRequest(prompt="a fox", model=""), tmp_path)

    assert raised.type is error
    assert raised.value.message.startswith(words)
    assert lyria.billed("music") == []
    assert list(tmp_path.glob("lyria*")) == []  # nothing written


@pytest.mark.parametrize(
    ("script", "error", "words"),
    [
        (interaction_error(429, "rate_limit_exceeded", "Slow down."), TransientProviderError, "(429): Slow down."),
        (interaction_error(400, "invalid_request", "Unknown model."), PermanentProviderError, "(400): Unknown model."),
        (interaction_error(500, "internal", "Internal error."), SubmitOutcomeUnknown, "server error (500)"),
        (Accept(fail=interaction_error(503, "unavailable", "Busy.")), SubmitOutcomeUnknown, "server error (503)"),
        (Accept(delay=4), SubmitOutcomeUnknown, "did not answer within 2 s after the request was sent"),
        (Accept(drop=True), SubmitOutcomeUnknown, "broke after the request was sent"),
    ],
)
def test_lyria_failures_retry_only_what_proves_nothing_was_made(lyria, tmp_path, script, error, words):
    lyria.music.append(script)

    with pytest.raises(error) as raised:
        LyriaMusicProvider().generate(MusicRequest(prompt="a fox", model=""), tmp_path)

    assert raised.type is error and words in raised.value.message
    # The SDK's own retries are off: each failure is one request (one piece paid for at most).
    assert len(lyria.music_requests()) == 1


def test_lyria_unreachable_is_worth_another_try(tmp_path):
    with (
        override_settings(GEMINI_API_KEY="test-key", GEMINI_BASE_URL="http://127.0.0.1:9"),
        pytest.raises(TransientProviderError) as raised,
    ):
        LyriaMusicProvider().generate(MusicRequest(prompt="a fox", model=""), tmp_path)

    assert raised.type is TransientProviderError and "could not be reached" in raised.value.message
