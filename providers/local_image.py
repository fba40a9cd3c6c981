"""The offline image provider: an honest still, drawn with Pillow, of the requested size and aspect.

Not a generation: the first reference picture (a keyframe's look, a character's face) fills the
frame, the others sit beside it as thumbnails, the prompt is written across the bottom, and the label
says what it is. The same request draws the same pixels, so a re-run that changes nothing matches.
"""

from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

from assets import media
from providers.contract import GeneratedImage, ImageRequest, image_dimensions

MODEL = "reelgraph-offline-still"
LABEL = "Offline render - not AI-generated"


class LocalImageProvider:
    name = "local"
    label = "Offline render"
    max_references = 8

    def generate(self, request: ImageRequest, workdir: Path) -> GeneratedImage:
        width, height = image_dimensions(request.aspect_ratio, request.size)
        picture = _background(request, width, height, workdir)
        _thumbnails(picture, request.references[1:])
        label = LABEL + (f" - {len(request.references)} reference(s)" if request.references else "")
        label += f" - take {request.variation}" if request.variation > 1 else ""
        picture = _caption(picture, request.prompt, label)
        path = workdir / f"still-{_digest(request)[:16]}.png"
        picture.save(path, "PNG")
        return GeneratedImage(path=path, model=MODEL)


def _digest(request: ImageRequest) -> str:
    hasher = hashlib.sha256(f"{request.prompt}\0{request.aspect_ratio}\0{request.size}\0{request.variation}".encode())
    for reference in request.references:
        hasher.update(reference.read_bytes())
    return hasher.hexdigest()


def _background(request: ImageRequest, width: int, height: int, workdir: Path) -> Image.Image:
    if request.references:
        # The whole first picture, fitted over a blurred fill of itself: nothing of it is cut off.
        covered = media.cover(request.references[0], workdir / "still-cover.png", width, height, margin=1.0)
        with Image.open(covered) as picture:
            return picture.convert("RGB")
    # No reference: a gradient between two colours taken from the prompt, so each prompt has its look
    # (and each further take of it another).
    seeded = request.prompt if request.variation == 1 else f"{request.prompt}\0take {request.variation}"
    seed = hashlib.sha256(seeded.encode()).digest()
    top, bottom = tuple(seed[0:3]), tuple(seed[3:6])
    gradient = Image.linear_gradient("L").resize((width, height))
    return Image.composite(Image.new("RGB", (width, height), bottom), Image.new("RGB", (width, height), top), gradient)


def _thumbnails(picture: Image.Image, references: tuple[Path, ...]) -> None:
    """The other references down the right edge, each framed, so the still shows all it was given."""
    side = max(48, picture.height // 5)
    margin = max(8, side // 8)
    for index, reference in enumerate(references):
        top = margin + index * (side + margin)
        if top + side > picture.height - margin:
            break
        with Image.open(reference) as source:
            thumb = ImageOps.fit(ImageOps.exif_transpose(source).convert("RGB"), (side, side))
        left = picture.width - side - margin
        ImageDraw.Draw(picture).rectangle((left - 2, top - 2, left + side + 1, top + side + 1), fill=(255, 255, 255))
        picture.paste(thumb, (left, top))


def _caption(picture: Image.Image, prompt: str, label: str) -> Image.Image:
    """The label and the prompt in a band near the top. Not at the bottom, nor in the top corner: when
    the still becomes an offline video's first frame, the video writes its own caption and label there."""
    width, height = picture.size
    scale = height / 720
    overlay = Image.new("RGBA", picture.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    label_font = ImageFont.load_default(size=max(10, round(18 * scale)))
    prompt_font = ImageFont.load_default(size=max(12, round(26 * scale)))
    lines = textwrap.wrap(prompt, width=max(20, int(width / (14 * scale))))[:2]
    margin, top, line = round(40 * scale), round(60 * scale), round(34 * scale)
    bottom = top + round(30 * scale) + line * len(lines) + round(12 * scale)
    draw.rectangle((0, top - round(10 * scale), width, bottom), fill=(0, 0, 0, 120))
    draw.text((margin, top), label, font=label_font, fill=(255, 220, 120, 235))
    for index, text in enumerate(lines):
        draw.text((margin, top + round(30 * scale) + index * line), text, font=prompt_font, fill=(255, 255, 255, 235))
    return Image.alpha_composite(picture.convert("RGBA"), overlay).convert("RGB")
