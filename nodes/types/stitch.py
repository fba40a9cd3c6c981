from typing import Literal

from pydantic import Field, model_serializer

from nodes.types.base import NodeType, Outputs, Params, Port, RunContext, Usage

CROSSFADE_SECONDS = 0.5


class StitchParams(Params):
    transition: Literal["cut", "crossfade"] = "cut"
    resolution: Literal["source", "720p", "1080p", "4k"] = "source"
    mix: Literal["blend", "soundtrack", "duck"] = Field(
        default="blend",
        description="How the soundtrack goes with the clips' own sound: blend (both, the music softer), "
        "soundtrack (the music alone), or duck (the clips' sound, the music lowered while they have sound).",
    )

    @model_serializer(mode="wrap")
    def _without_defaults_added_later(self, handler):
        # Params are part of cache keys: a stitch that blends, as every stitch did before this setting
        # existed, keeps its key, so no existing film is made again.
        dumped = handler(self)
        if dumped.get("mix") == "blend":
            dumped.pop("mix", None)
        return dumped


class StitchNode(NodeType):
    name = "stitch"
    label = "Stitch"
    description = "Joins clips in order into one video, with an optional soundtrack."
    queue = "media"
    inputs = (
        Port("videos", "video", required=True, multi=True, label="Clips"),
        Port("audio", "audio", label="Soundtrack"),
    )
    outputs = (Port("video", "video"),)
    Params = StitchParams

    def describe(self, params: StitchParams, inputs):
        clips = inputs.get("videos") or []
        overlap = CROSSFADE_SECONDS * max(0, len(clips) - 1) if params.transition == "crossfade" else 0
        first = clips[0] if clips else {}
        return {
            "video": {
                "resolution": first.get("resolution") if params.resolution == "source" else params.resolution,
                "aspect_ratio": first.get("aspect_ratio"),
                "duration": sum(clip.get("duration", 0) for clip in clips) - overlap,
                "veo_extendable": False,
            }
        }

    def estimate(self, params: StitchParams, inputs) -> list[Usage]:
        return [Usage("media")]

    def run(self, ctx: RunContext) -> Outputs:
        clips = ctx.inputs["videos"]
        paths = [ctx.path(clip) for clip in clips]
        size = None
        if ctx.params.resolution != "source":
            first = clips[0].meta
            orientation = "9:16" if (first.get("height") or 0) > (first.get("width") or 0) else "16:9"
            size = ctx.media.frame_size(ctx.params.resolution, orientation)
        soundtrack = ctx.inputs.get("audio", [])
        ctx.progress(0.1, f"Joining {len(paths)} clip{'s' if len(paths) != 1 else ''}")
        stitched = ctx.media.concat(
            paths,
            ctx.workdir / "stitched.mp4",
            transition=ctx.params.transition,
            size=size,
            soundtrack=ctx.path(soundtrack[0]) if soundtrack else None,
            mix=ctx.params.mix,
            crossfade=CROSSFADE_SECONDS,
        )
        return {"video": ctx.save(stitched, "video", provider="ffmpeg", model=f"stitch-{ctx.params.transition}")}
