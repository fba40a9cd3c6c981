import numpy as np
from pydantic import Field

from nodes.types import veo
from nodes.types.base import NodeType, Outputs, Params, Port, Problem, RunContext, Usage, Variations, Wait
from nodes.types.veo import DEFAULT_MODEL, AspectRatio, Duration, Resolution, VeoModel
from providers.contract import VideoRequest, is_fast


class VideoParams(Params):
    model: VeoModel = Field(default=DEFAULT_MODEL, description="Veo 3.1, or its faster, cheaper variant.")
    aspect_ratio: AspectRatio = "16:9"
    resolution: Resolution = "720p"
    duration_seconds: Duration = 8
    negative_prompt: str = Field(default="", max_length=1000, description="What the video should not show.")
    variations: Variations = 1


class VideoNode(NodeType):
    name = "video"
    label = "Video"
    description = "Generates a clip with Veo 3.1: from text, a first frame, first and last frames, or characters."
    queue = "video"
    inputs = (
        Port("prompt", "text", required=True, label="Prompt"),
        Port("first_frame", "image", label="First frame"),
        Port("last_frame", "image", label="Last frame"),
        Port("characters", "character", multi=True, max_items=3, label="Characters"),
    )
    outputs = (Port("video", "video"), Port("last_frame", "image", label="Last frame"))
    Params = VideoParams

    def describe(self, params: VideoParams, inputs):
        return {
            "video": {
                "resolution": params.resolution,
                "aspect_ratio": params.aspect_ratio,
                "duration": params.duration_seconds,
                "base_duration": params.duration_seconds,
                "veo_extensions": 0,
                "veo_extendable": True,
            },
            "last_frame": {"aspect_ratio": params.aspect_ratio},
        }

    def check(self, params: VideoParams, inputs) -> list[Problem]:
        problems = []
        if params.resolution in ("1080p", "4k") and params.duration_seconds != 8:
            problems.append(
                Problem(
                    f"{params.resolution} videos are 8 seconds long: "
                    "set the duration to 8 s or the resolution to 720p.",
                    code="veo_rule",
                    field="duration_seconds",
                )
            )
        if inputs.get("last_frame") and not inputs.get("first_frame"):
            problems.append(
                Problem(
                    "A last frame needs a first frame: "
                    "connect an image to First frame as well, or remove the last frame.",
                    code="veo_rule",
                    port="last_frame",
                )
            )
        if inputs.get("first_frame") and inputs.get("last_frame") and params.duration_seconds != 8:
            # Google's Veo 3.1 parameter table: "Must be 8 when using extension or interpolation".
            problems.append(
                Problem(
                    "A video from a first and a last frame is 8 seconds long: set the duration to 8 s, "
                    "or remove the last frame.",
                    code="veo_rule",
                    field="duration_seconds",
                )
            )
        if inputs.get("characters"):
            problems += self._check_characters(params, inputs)
        return problems

    def _check_characters(self, params: VideoParams, inputs) -> list[Problem]:
        problems = []
        if inputs.get("first_frame") or inputs.get("last_frame"):
            problems.append(
                Problem(
                    "Characters cannot be combined with a first or last frame: disconnect one or the other.",
                    code="veo_rule",
                    port="characters",
                )
            )
        if params.duration_seconds != 8:
            problems.append(
                Problem(
                    "With characters the video is 8 seconds long: set the duration to 8 s.",
                    code="veo_rule",
                    field="duration_seconds",
                )
            )
        if params.aspect_ratio != "16:9":
            problems.append(
                Problem(
                    "With characters the video is 16:9: set the aspect ratio to 16:9.",
                    code="veo_rule",
                    field="aspect_ratio",
                )
            )
        if is_fast(params.model):
            problems.append(
                Problem(
                    f"{params.model} does not take characters: choose {DEFAULT_MODEL}.", code="veo_rule", field="model"
                )
            )
        return problems

    def estimate(self, params: VideoParams, inputs) -> list[Usage]:
        return [Usage("video", params.duration_seconds, model=params.model, resolution=params.resolution)]

    def run(self, ctx: RunContext) -> Wait:
        params = ctx.params
        first = ctx.inputs.get("first_frame", [])
        last = ctx.inputs.get("last_frame", [])
        characters = [character for character in ctx.inputs.get("characters", []) if character.reference]
        request = VideoRequest(
            prompt=ctx.inputs["prompt"][0],
            model=params.model,
            aspect_ratio=params.aspect_ratio,
            resolution=params.resolution,
            duration_seconds=params.duration_seconds,
            negative_prompt=params.negative_prompt,
            first_frame=ctx.path(first[0]) if first else None,
            last_frame=ctx.path(last[0]) if last else None,
            reference_images=tuple(ctx.path(character.reference) for character in characters),
            variation=ctx.variation,
        )
        return veo.submit(ctx, request, "Generating")

    def resume(self, ctx: RunContext) -> Outputs | Wait:
        result = veo.collect(ctx, ctx.params.resolution)
        if isinstance(result, Wait):
            return result
        meta = veo.handle(result)
        characters = ctx.inputs.get("characters", [])
        if characters:
            ctx.progress(0.97, "Checking the characters' identity")
            ctx.state["identity"] = identity_scores(ctx, result.path, characters)
            meta["identity"] = ctx.state["identity"]
            meta["identity_drift"] = ctx.state["identity_drift"] = any(
                score["drift"] for score in ctx.state["identity"].values()
            )
        video = ctx.save(result.path, "video", provider=ctx.video.name, model=result.model, meta=meta)
        frame = ctx.media.last_frame(result.path, ctx.workdir / "last_frame.png")
        return {"video": video, "last_frame": ctx.save(frame, "image", provider="ffmpeg", model="last-frame")}


def identity_scores(ctx: RunContext, video, characters) -> dict[str, dict]:
    """How well each character survives into the video: the best cosine similarity between the
    character and any face in a handful of sampled frames. Below the face model's drift threshold,
    the output is marked "identity drift"."""
    frames = ctx.media.sample_frames(video, ctx.workdir, count=5)
    found = [face.embedding for frame in frames for face in ctx.faces.analyze(frame).faces]
    scores = {}
    for character in characters:
        if character.embedding_model != ctx.face_model():
            scores[character.id] = {
                "name": character.name,
                "score": None,
                "drift": False,
                "note": f"made with {character.embedding_model}; the check uses {ctx.face_model()}",
            }
            continue
        reference = np.asarray(character.embedding, dtype=np.float32)
        best = max((float(reference @ embedding) for embedding in found), default=0.0)
        scores[character.id] = {
            "name": character.name,
            "score": round(best, 4),
            "drift": best < ctx.faces.drift_threshold,
        }
    return scores
