"""Music: a soundtrack from a prompt, of the length the film needs, for Stitch's Soundtrack input.

The provider's piece is fitted to the length asked for (looped or cut, with a fade-out; the take says
so), so a stitch gets music that lasts exactly as long as it was told.
"""

from __future__ import annotations

from pydantic import Field

from nodes.types.base import NodeType, Outputs, Params, Port, RunContext, Usage, Variations
from nodes.types.choices import default_model, model_choice
from nodes.types.paid import made_once
from providers.contract import MusicRequest

MIN_SECONDS, MAX_SECONDS = 5, 180
MusicModel = model_choice("music", "MUSIC_MODELS")


class MusicParams(Params):
    seconds: int = Field(
        default=30, ge=MIN_SECONDS, le=MAX_SECONDS, description="How long the music lasts: set it to the film's length."
    )
    model: MusicModel = Field(default="", description="The music model; empty for the provider's default.")
    variations: Variations = 1


class MusicNode(NodeType):
    name = "music"
    label = "Music"
    description = "Makes a soundtrack from a prompt, as long as you ask, for a Stitch's soundtrack."
    queue = "music"
    inputs = (Port("prompt", "text", required=True, label="Prompt"),)
    outputs = (Port("audio", "audio"),)
    Params = MusicParams

    def describe(self, params: MusicParams, inputs):
        return {"audio": {"duration": params.seconds}}

    def estimate(self, params: MusicParams, inputs) -> list[Usage]:
        return [Usage("music", items=1, model=params.model or default_model("music", "MUSIC_MODELS"))]

    def run(self, ctx: RunContext) -> Outputs:
        params = ctx.params
        request = MusicRequest(
            prompt=ctx.inputs["prompt"][0], model=params.model, seconds=params.seconds, variation=ctx.variation
        )
        provider = ctx.music
        ctx.progress(0.1, f"Composing with {provider.label}")
        music = made_once(ctx, provider, request, capability="music")
        meta = {"prompt": request.prompt[:500], "seconds": music.seconds}
        if music.note:
            meta["note"] = ctx.state["notice"] = music.note
        made = ctx.save(music.path, "audio", provider=provider.name, model=music.model, meta=meta)
        return {"audio": made}
