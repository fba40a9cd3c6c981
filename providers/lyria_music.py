"""Music from Google's Lyria 3 through the Gemini API's Interactions API (google-genai's
`client.interactions.create`), with an API key.

Lyria 3 Clip always makes 30 s; Lyria 3 Pro and 3.5 make full-length pieces whose length the prompt
sets (asked for here in words). Whatever comes back is fitted to the requested length with ffmpeg:
looped or cut, with a fade-out, and the note says which.

The Interactions API is a separate generated client inside google-genai with its own error classes
(re-exported by google.genai._interactions, shaped like OpenAI's), translated here.
"""

from __future__ import annotations

import base64
import contextlib
from pathlib import Path

from django.conf import settings
from google.genai import _interactions as interactions
from google.genai._gaos.utils import RetryConfig

from assets import audio
from providers import google
from providers.contract import (
    GeneratedMusic,
    MusicRequest,
    PermanentProviderError,
    ProviderNotConfigured,
    SafetyBlocked,
    SubmitOutcomeUnknown,
    TransientProviderError,
    connection_failed,
    never_sent,
)

SERVICE = "Google Lyria"
CLIP_MODEL = "lyria-3-clip-preview"  # always 30 s: its length cannot be asked for
# Words in a failed interaction's errors that say a safety rule stopped it (its code or message).
SAFETY_WORDS = ("safety", "blocked", "prohibited", "policy", "filtered")
EXTENSIONS = {"audio/mpeg": ".mp3", "audio/mp3": ".mp3", "audio/wav": ".wav", "audio/mp4": ".m4a"}


class LyriaMusicProvider:
    name = "lyria"
    label = SERVICE

    def __init__(self) -> None:
        self.client = google.client()
        # One try: every request is a paid piece of music. The Interactions client reads the client's
        # retry attempts as retries (and will not take 0), so one failed request would be sent twice.
        self.client.interactions.sdk_configuration.retry_config = RetryConfig("none", None, False)
        self.default_model = settings.MUSIC_MODELS["lyria"][0]

    def generate(self, request: MusicRequest, workdir: Path) -> GeneratedMusic:
        model = request.model or self.default_model
        prompt = request.prompt
        if model != CLIP_MODEL:
            prompt = f"{prompt}\n\nLength: about {request.seconds:g} seconds."
        timeout = settings.MUSIC_TIMEOUT_SECONDS
        with translated_errors(timeout):
            interaction = self.client.interactions.create(
                model=model, input=prompt, timeout=timeout, automatic_continuation=False
            )
        data, mime = _music_of(interaction)
        made = workdir / f"lyria{EXTENSIONS.get(mime, '.mp3')}"
        made.write_bytes(data)
        fitted, changed = audio.fit_length(made, workdir / "lyria-fitted.m4a", request.seconds)
        note = f"{SERVICE} {changed}." if changed else ""
        return GeneratedMusic(path=fitted, model=model, mime="audio/mp4", seconds=request.seconds, note=note)


def _music_of(interaction) -> tuple[bytes, str]:
    """The audio of the answer, or the reason there is none, in Google's words."""
    sound = interaction.output_audio
    if interaction.status == "completed" and sound is not None and sound.data:
        return base64.b64decode(sound.data), sound.mime_type or "audio/mpeg"
    said = "; ".join(f"{error.code or 'error'}: {error.message or ''}".strip() for error in interaction.errors or [])
    words = f": {said}" if said else ""
    if any(word in said.lower() for word in SAFETY_WORDS):
        raise SafetyBlocked(f"{SERVICE} made no music: its safety filter stopped it{words}. Change the prompt.")
    raise PermanentProviderError(
        f"{SERVICE} answered without music (status {interaction.status}){words}. "
        "Make the prompt describe music, and run again."
    )


@contextlib.contextmanager
def translated_errors(timeout: float):
    """Paid work without an idempotency key: only what proves nothing was made (a 4xx, a 429, a connection
    that never opened) may be tried again; an answer lost after the request left is an unknown outcome."""
    try:
        yield
    except interactions.APITimeoutError as error:
        lost = f"{SERVICE} did not answer within {timeout:g} s after the request was sent"
        raise SubmitOutcomeUnknown(lost) from error
    except interactions.APIConnectionError as error:  # the SDK's wrapper: what broke is its cause
        cause = error.__cause__ or error
        if never_sent(cause):
            raise connection_failed(SERVICE, cause) from error
        raise SubmitOutcomeUnknown(
            f"the connection to {SERVICE} broke after the request was sent ({cause.__class__.__name__})"
        ) from error
    except interactions.APIStatusError as error:
        status, said = error.status_code, _message(error)
        if status >= 500:
            raise SubmitOutcomeUnknown(f"{SERVICE} answered the request with a server error ({status})") from error
        if status == 429:
            raise TransientProviderError(f"{SERVICE} is rate-limiting requests (429): {said}") from error
        if status in (401, 403):
            raise ProviderNotConfigured(f"{SERVICE} refused the request ({status}): {said}") from error
        raise PermanentProviderError(f"{SERVICE} refused the request ({status}): {said}") from error


def _message(error) -> str:
    body = error.body if isinstance(error.body, dict) else {}
    found = body.get("error") if isinstance(body.get("error"), dict) else body
    return str(found.get("message") or error.message or "no details")
