"""Generate image: a keyframe, a first or last frame, a style frame, from a prompt and references.

The picture goes wherever an image goes (a Video's first or last frame, a Prompt's reference image,
another Generate image's references). Characters keep their look: their face photos go to the model
as reference pictures, after the reference images, in port order.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from nodes.types.base import NodeType, Outputs, Params, Port, RunContext, Usage, Variations
from nodes.types.choices import default_model, model_choice
from nodes.types.paid import made_once
from providers.contract import IMAGE_ASPECT_RATIOS, IMAGE_SIZES, ImageRequest, image_dimensions

MAX_REFERENCES = 6
MAX_CHARACTERS = 3


ImageModel = model_choice("image", "IMAGE_MODELS")


class GenerateImageParams(Params):
    model: ImageModel = Field(default="", description="The image model; empty for the provider's default.")
    aspect_ratio: Literal[IMAGE_ASPECT_RATIOS] = Field(
        default="16:9", description="16:9 or 9:16 to use it as a video's first or last frame."
    )
    size: Literal[IMAGE_SIZES] = Field(default="1K", description="1K: 1024 px on the long side; 2K: 2048.")
    variations: Variations = 1


class GenerateImageNode(NodeType):
    name = "generate_image"
    label = "Generate image"
    description = "Makes a picture from a prompt, keeping to reference images and characters' faces."
    queue = "image"
    inputs = (
        Port("prompt", "text", required=True, label="Prompt"),
        Port("references", "image", multi=True, max_items=MAX_REFERENCES, label="Reference images"),
        Port("characters", "character", multi=True, max_items=MAX_CHARACTERS, label="Characters"),
    )
    outputs = (Port("image", "image"),)
    Params = GenerateImageParams

    def describe(self, params: GenerateImageParams, inputs):
        width, height = image_dimensions(params.aspect_ratio, params.size)
        return {"image": {"aspect_ratio": params.aspect_ratio, "width": width, "height": height}}

    def estimate(self, params: GenerateImageParams, inputs) -> list[Usage]:
        return [Usage("image", items=1, model=params.model or default_model("image", "IMAGE_MODELS"))]

    def run(self, ctx: RunContext) -> Outputs:
        params = ctx.params
        characters = [character.reference for character in ctx.inputs.get("characters", []) if character.reference]
        references = [*ctx.inputs.get("references", []), *characters]
        request = ImageRequest(
            prompt=ctx.inputs["prompt"][0],
            model=params.model,
            aspect_ratio=params.aspect_ratio,
            size=params.size,
            references=tuple(ctx.path(reference) for reference in references),
            variation=ctx.variation,
        )
        provider = ctx.image
        ctx.progress(0.1, f"Generating with {provider.label}")
        image = made_once(ctx, provider, request, capability="image")
        meta = {"prompt": request.prompt[:500], "references": len(references)}
        if image.note:
            meta["note"] = ctx.state["notice"] = image.note
        made = ctx.save(image.path, "image", provider=provider.name, model=image.model, meta=meta)
        return {"image": made}
