from datetime import UTC, datetime
from typing import Literal

from pydantic import Field

from nodes.types import veo
from nodes.types.base import NodeError, NodeType, Outputs, Params, Port, Problem, RunContext, Usage, Wait
from nodes.types.veo import (
    DEFAULT_MODEL,
    MAX_EXTENDABLE_SECONDS,
    MAX_EXTENSIONS,
    Duration,
    VeoModel,
    aspect_ratio_of,
    resolution_of,
)
from providers.contract import EXTENSION_SECONDS, VideoRequest, VideoSource


class ExtendParams(Params):
    mode: Literal["veo", "last_frame"] = Field(
        default="veo",
        description="veo: Veo continues its own video (720p, +7 s). "
        "last_frame: a new clip starts from the last frame and is joined on (any video).",
    )
    prompt_text: str = Field(default="", max_length=4000, description="What happens next (or connect a prompt).")
    model: VeoModel = DEFAULT_MODEL
    duration_seconds: Duration = Field(default=8, description="Length of the new clip in last_frame mode.")


class ExtendNode(NodeType):
    name = "extend"
    label = "Extend"
    description = "Continues a video: the whole longer video, and the new part on its own."
    queue = "video"
    inputs = (Port("video", "video", required=True), Port("prompt", "text"))
    outputs = (Port("video", "video", label="Extended video"), Port("clip", "video", label="New part"))
    Params = ExtendParams

    def _added_seconds(self, params: ExtendParams) -> int:
        return EXTENSION_SECONDS if params.mode == "veo" else params.duration_seconds

    def describe(self, params: ExtendParams, inputs):
        source = (inputs.get("video") or [{}])[0]
        added = self._added_seconds(params)
        veo = params.mode == "veo"
        return {
            "video": {
                **source,
                "duration": source.get("duration", 0) + added,
                "veo_extensions": source.get("veo_extensions", 0) + (1 if veo else 0),
                "veo_extendable": veo and source.get("veo_extendable", False),
            },
            "clip": {**source, "duration": added, "veo_extensions": 0, "veo_extendable": not veo, "uploaded": False},
        }

    def check(self, params: ExtendParams, inputs) -> list[Problem]:
        sources = inputs.get("video") or []
        if params.mode != "veo" or not sources:
            return []
        source = sources[0]
        use_last_frame = "set the mode to last_frame, which extends any video"
        if source.get("uploaded"):
            return [
                Problem(
                    "Veo can only extend videos Veo made, not an uploaded clip: "
                    "set the mode to last_frame, which extends any video.",
                    code="veo_rule",
                    field="mode",
                )
            ]
        if not source.get("veo_extendable", False):
            return [Problem(f"Veo can only extend a video Veo made: {use_last_frame}.", code="veo_rule", field="mode")]
        problems = []
        if source.get("resolution", "720p") != "720p":
            problems.append(
                Problem(
                    f"Veo extends 720p videos only: make the source 720p, or {use_last_frame}.",
                    "veo_rule",
                    field="mode",
                )
            )
        if source.get("base_duration", 8) != 8:
            problems.append(
                Problem(
                    f"Veo extends videos generated at 8 seconds only: set the source to 8 s, or {use_last_frame}.",
                    "veo_rule",
                    field="mode",
                )
            )
        count = source.get("veo_extensions", 0) + 1
        if count > MAX_EXTENSIONS:
            problems.append(
                Problem(
                    f"This would be Veo extension {count} of one video; Veo allows {MAX_EXTENSIONS}: {use_last_frame}.",
                    "veo_extension_limit",
                    field="mode",
                )
            )
        elif source.get("duration", 0) > MAX_EXTENDABLE_SECONDS:
            problems.append(
                Problem(
                    f"Veo extends videos up to {MAX_EXTENDABLE_SECONDS} s long: {use_last_frame}.",
                    "veo_rule",
                    field="mode",
                )
            )
        return problems

    def estimate(self, params: ExtendParams, inputs) -> list[Usage]:
        source = (inputs.get("video") or [{}])[0]
        resolution = "720p" if params.mode == "veo" else source.get("resolution", "720p")
        return [Usage("video", self._added_seconds(params), model=params.model, resolution=resolution)]

    def _prompt(self, ctx: RunContext) -> str:
        connected = ctx.inputs.get("prompt", [])
        return (connected[0] if connected else ctx.params.prompt_text).strip()

    def _resolution(self, params: ExtendParams, source) -> str:
        """Veo extends at 720p; a continuation from the last frame matches its source."""
        return "720p" if params.mode == "veo" else resolution_of(source.meta.get("width"), source.meta.get("height"))

    def run(self, ctx: RunContext) -> Wait:
        source = ctx.inputs["video"][0]
        params = ctx.params
        request = dict(
            prompt=self._prompt(ctx),
            model=params.model,
            aspect_ratio=aspect_ratio_of(source.meta.get("width"), source.meta.get("height")),
            resolution=self._resolution(params, source),
        )
        if params.mode == "veo":
            expires = source.meta.get("uri_expires_at")
            if expires and datetime.fromisoformat(expires) < datetime.now(UTC):
                raise NodeError(
                    "Google deleted its copy of this video (it keeps them 2 days), so Veo cannot extend it: "
                    "set the mode to last_frame, or run the source video again.",
                    code="veo_copy_expired",
                )
            extend = VideoSource(ctx.path(source), provider=source.provider, uri=source.meta.get("uri", ""))
            request |= {"duration_seconds": 8, "extend": extend}
        else:
            ctx.progress(0.02, "Taking the last frame")
            frame = ctx.media.last_frame(ctx.path(source), ctx.workdir / "last_frame.png")
            request |= {"duration_seconds": params.duration_seconds, "first_frame": frame}
        return veo.submit(ctx, VideoRequest(**request), "Generating the continuation")

    def resume(self, ctx: RunContext) -> Outputs | Wait:
        source = ctx.inputs["video"][0]
        result = veo.collect(ctx, self._resolution(ctx.params, source), extension=ctx.params.mode == "veo")
        if isinstance(result, Wait):
            return result
        source_path = ctx.path(source)
        if result.includes_source:
            combined = result.path
            added = ctx.media.probe(combined).duration - (source.duration or 0)
            if added <= 0:
                raise NodeError("The provider returned a video no longer than its source.")
            clip = ctx.media.tail(combined, ctx.workdir / "clip.mp4", added)
        else:
            ctx.progress(0.95, "Joining")
            clip = result.path
            combined = ctx.media.concat([source_path, clip], ctx.workdir / "extended.mp4")
        return {
            "video": ctx.save(combined, "video", provider=ctx.video.name, model=result.model, meta=veo.handle(result)),
            "clip": ctx.save(clip, "video", provider=ctx.video.name, model=result.model),
        }
