"""The offline image provider: an honest still, drawn with Pillow, of the requested size and aspect.

Not a generation: the first reference picture (a keyframe's look, a character's face) fills the
frame, the others sit beside it as thumbnails, the prompt is written across the bottom, and the label
says what it is. The same request draws the same pixels, so a re-run that changes nothing matches.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from PIL import Image, ImageDraw, ImageOps

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
        picture = _caption(picture, request.prompt, label, workdir)
        path = workdir / f"still-{_digest(request)[:16]}.png"
        picture.save(path, "PNG")
        return GeneratedImage(path=path, model=MODEL)


def _digest(request: ImageRequest) -> str:
    hasher = hashlib.sha256(f"{request.prompt}\0{request.aspect_ratio}\0{request.size}".encode())
    for reference in request.references:
        hasher.update(reference.read_bytes())
    return hasher.hexdigest()


def _background(request: ImageRequest, width: int, height: int, workdir: Path) -> Image.Image:
    if request.references:
        # The whole first picture, fitted over a blurred fill of itself: nothing of it is cut off.
        covered = media.cover(request.references[0], workdir / "still-cover.png", width, height, margin=1.0)
        with Image.open(covered) as picture:
            return picture.convert("RGB")
    # No reference: a gradient between two colours taken from the prompt, so each prompt has its look.
    seed = hashlib.sha256(request.prompt.encode()).digest()
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


def _caption(picture: Image.Image, prompt: str, label: str, workdir: Path) -> Image.Image:
    overlay = media.caption_overlay(workdir / "still-caption.png", picture.width, picture.height, prompt, label)
    with Image.open(overlay) as caption:
        return Image.alpha_composite(picture.convert("RGBA"), caption.convert("RGBA")).convert("RGB")
