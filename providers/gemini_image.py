"""Images from Gemini's native image models (generate_content with image output), with an API key.

Imagen (`generate_images`) is not used: the SDK allows it only in Vertex mode, and its models were
shut down on the Gemini API. The reference pictures go first in the request, then the prompt.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from django.conf import settings
from google.genai import types

from providers import google
from providers.contract import GeneratedImage, ImageRequest, PermanentProviderError, SafetyBlocked

# A candidate that ends for one of these made no image because of a safety rule (not billed).
SAFETY_ENDINGS = {"SAFETY", "IMAGE_SAFETY", "PROHIBITED_CONTENT", "IMAGE_PROHIBITED_CONTENT", "BLOCKLIST", "SPII"}


class GeminiImageProvider:
    name = "gemini"
    label = "Gemini"
    max_references = 8

    def __init__(self) -> None:
        self.client = google.client()
        self.default_model = settings.IMAGE_MODELS["gemini"][0]

    def generate(self, request: ImageRequest, workdir: Path) -> GeneratedImage:
        model = request.model or self.default_model
        parts = [google.picture(path) for path in request.references] + [types.Part.from_text(text=request.prompt)]
        timeout = settings.IMAGE_TIMEOUT_SECONDS
        with google.translated_errors("Gemini", starts_paid_work=True, timeout=timeout):
            response = self.client.models.generate_content(
                model=model,
                contents=[types.Content(role="user", parts=parts)],
                config=types.GenerateContentConfig(
                    response_modalities=["IMAGE"],
                    image_config=types.ImageConfig(aspect_ratio=request.aspect_ratio, image_size=request.size),
                    automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
                    # Its own, long timeout: an answer that times out is not asked for again.
                    http_options=types.HttpOptions(timeout=int(timeout * 1000)),
                ),
            )
        data, mime = _image_of(response)
        path = workdir / f"gemini-image{mimetypes.guess_extension(mime) or '.png'}"
        path.write_bytes(data)
        return GeneratedImage(path=path, model=model, mime=mime)


def _image_of(response: types.GenerateContentResponse) -> tuple[bytes, str]:
    """The image part of the answer, or the reason there is none, in Google's words."""
    feedback = response.prompt_feedback
    if feedback is not None and feedback.block_reason:
        reason = _name(feedback.block_reason)
        words = f": {feedback.block_reason_message}" if feedback.block_reason_message else ""
        raise SafetyBlocked(f"Gemini blocked the prompt ({reason}){words}. Change the prompt or the references.")
    candidate = (response.candidates or [None])[0]
    for part in (candidate.content.parts or []) if candidate and candidate.content else []:
        if part.inline_data is not None and part.inline_data.data:
            return part.inline_data.data, part.inline_data.mime_type or "image/png"
    ending = _name(candidate.finish_reason) if candidate and candidate.finish_reason else "no candidate"
    said = f": {candidate.finish_message}" if candidate and candidate.finish_message else ""
    if ending in SAFETY_ENDINGS:
        raise SafetyBlocked(f"Gemini made no image: its safety filter stopped it ({ending}){said}.")
    raise PermanentProviderError(
        f"Gemini answered without an image ({ending}){said}. Make the prompt describe a picture, and run again."
    )


def _name(value) -> str:
    return getattr(value, "value", None) or str(value)
