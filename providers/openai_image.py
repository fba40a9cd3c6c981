"""Images from OpenAI's GPT image models: `images.generate` from a prompt, `images.edit` when there
are reference pictures (a character's face, a keyframe's look), which it keeps to.

They make 1:1, 3:2 or 2:3 pictures; the nearest is asked for and cut to the requested aspect around
its centre, and the result says so.
"""

from __future__ import annotations

import base64
from pathlib import Path

from django.conf import settings
from PIL import Image, ImageOps

from providers import openai_client
from providers.contract import GeneratedImage, ImageRequest, PermanentProviderError, image_dimensions

SIZES = {"landscape": "1536x1024", "portrait": "1024x1536", "square": "1024x1024"}


def openai_size(aspect_ratio: str) -> str:
    across, down = (int(part) for part in aspect_ratio.split(":"))
    return SIZES["landscape" if across > down else "portrait" if down > across else "square"]


class OpenAIImageProvider:
    name = "openai"
    label = "OpenAI"
    max_references = 8

    def __init__(self) -> None:
        self.client = openai_client.client("Image generation")
        self.default_model = settings.IMAGE_MODELS["openai"][0]

    def generate(self, request: ImageRequest, workdir: Path) -> GeneratedImage:
        model = request.model or self.default_model
        size = openai_size(request.aspect_ratio)
        timeout = settings.IMAGE_TIMEOUT_SECONDS  # long: an answer that times out is not asked for again
        with openai_client.translated_errors(starts_paid_work=True, timeout=timeout):
            if request.references:
                pictures = [path.open("rb") for path in request.references]
                try:
                    response = self.client.images.edit(
                        model=model,
                        image=pictures,
                        prompt=request.prompt,
                        size=size,
                        n=1,
                        output_format="png",
                        timeout=timeout,
                    )
                finally:
                    for picture in pictures:
                        picture.close()
            else:
                response = self.client.images.generate(
                    model=model, prompt=request.prompt, size=size, n=1, output_format="png", timeout=timeout
                )
        encoded = response.data[0].b64_json if response.data else None
        if not encoded:
            raise PermanentProviderError("OpenAI answered without an image; run again or change the prompt.")
        path = workdir / "openai-image.png"
        path.write_bytes(base64.b64decode(encoded))
        note = _crop(path, request.aspect_ratio, request.size, size)
        return GeneratedImage(path=path, model=model, note=note)


def _crop(path: Path, aspect_ratio: str, wanted_size: str, made: str) -> str:
    """Cut the picture to the requested aspect and size around its centre; says what was done, or ""."""
    width, height = image_dimensions(aspect_ratio, wanted_size)
    with Image.open(path) as source:
        picture = source.convert("RGB")
    if picture.size == (width, height):
        return ""
    ImageOps.fit(picture, (width, height), Image.Resampling.LANCZOS).save(path, "PNG")
    return f"OpenAI made {made}; cut to {aspect_ratio} ({width}x{height}) around the centre."
