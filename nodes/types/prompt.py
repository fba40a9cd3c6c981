from typing import Literal

from pydantic import Field

from nodes.types.base import NodeType, Outputs, Params, Port, Problem, RunContext, Usage
from nodes.types.veo import DEFAULT_MODEL, VeoModel
from providers.contract import EnhanceRequest

Style = Literal["cinematic", "documentary", "animation", "noir", "commercial", "dreamy"]


class PromptParams(Params):
    text: str = Field(default="", max_length=4000, description="What the video should show, in your words.")
    enhance: bool = Field(default=False, description="Rewrite the prompt for the video model.")
    style: Style | None = Field(default=None, description="A look for the enhancement to aim at.")
    target_model: VeoModel = Field(default=DEFAULT_MODEL, description="The video model the prompt is for.")
    enhanced_text: str = Field(
        default="", max_length=4000, description="The enhanced prompt as you edited it; used as it is when locked."
    )
    lock: bool = Field(default=False, description="Keep the enhanced text as it is: never enhance again.")


class PromptNode(NodeType):
    name = "prompt"
    label = "Prompt"
    description = "Text for the video model, optionally enhanced by a language model, and editable after."
    version = 2
    queue = "text"
    inputs = (Port("image", "image", label="Reference image"),)
    outputs = (Port("text", "text"),)
    Params = PromptParams

    def check(self, params: PromptParams, inputs) -> list[Problem]:
        if params.lock:
            if not params.enhanced_text.strip():
                return [
                    Problem("Nothing to lock yet: enhance first, or write the enhanced text.", field="enhanced_text")
                ]
            return []
        if not params.text.strip():
            return [Problem("Write a prompt.", code="required", field="text")]
        return []

    def estimate(self, params: PromptParams, inputs) -> list[Usage]:
        return [Usage("text")] if params.enhance and not params.lock else []

    def run(self, ctx: RunContext) -> Outputs:
        params = ctx.params
        text = params.text.strip()
        ctx.state["original"] = text
        if params.lock:
            ctx.state["locked"] = True
            return {"text": params.enhanced_text.strip()}
        if not params.enhance:
            return {"text": text}
        ctx.progress(0.2, f"Enhancing with {ctx.text.label}")
        images = ctx.inputs.get("image", [])
        enhanced = ctx.text.enhance(
            EnhanceRequest(
                text=text,
                target_model=params.target_model,
                style=params.style,
                image=ctx.path(images[0]) if images else None,
            )
        )
        ctx.state["enhanced"] = enhanced.text
        ctx.state["enhanced_by"] = {"provider": enhanced.provider, "model": enhanced.model}
        return {"text": enhanced.text}
