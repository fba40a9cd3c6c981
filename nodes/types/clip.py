from uuid import UUID

from pydantic import Field

from nodes.types.base import NodeType, Outputs, Params, Port, Problem, RunContext
from nodes.types.capabilities import NodeError


class ClipParams(Params):
    asset_id: UUID | None = Field(default=None, description="The uploaded video.")


class ClipNode(NodeType):
    name = "clip"
    label = "Clip"
    description = "Your own footage: an uploaded video to stitch or to continue from its last frame."
    queue = "media"
    outputs = (Port("video", "video"),)
    Params = ClipParams

    def describe(self, params: ClipParams, inputs):
        # Veo extends only what Veo made: an uploaded clip never carries a Veo handle.
        return {"video": {"uploaded": True, "veo_extendable": False, "veo_extensions": 0}}

    def check(self, params: ClipParams, inputs) -> list[Problem]:
        if params.asset_id is None:
            return [Problem("Upload or choose a video.", code="required", field="asset_id")]
        return []

    def asset_ids(self, params: ClipParams) -> list[str]:
        return [str(params.asset_id)] if params.asset_id else []

    def run(self, ctx: RunContext) -> Outputs:
        video = ctx.asset(str(ctx.params.asset_id))
        if video.kind != "video":
            raise NodeError(f"A Clip needs a video file (this one is {video.kind}): choose a video.", code="not_video")
        return {"video": video.id}
