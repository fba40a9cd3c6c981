from uuid import UUID

from pydantic import Field

from nodes.types.base import NodeError, Outputs, Params, Port, RunContext
from nodes.types.uploaded import UploadedFileNode


class ClipParams(Params):
    asset_id: UUID | None = Field(default=None, description="The uploaded video.")


class ClipNode(UploadedFileNode):
    wanted = "a video"
    name = "clip"
    label = "Clip"
    description = "Your own footage: an uploaded video to stitch or to continue from its last frame."
    queue = "media"
    outputs = (Port("video", "video"),)
    Params = ClipParams

    def describe(self, params: ClipParams, inputs):
        # Veo extends only what Veo made: an uploaded clip never carries a Veo handle.
        return {"video": {"uploaded": True, "veo_extendable": False, "veo_extensions": 0}}

    def run(self, ctx: RunContext) -> Outputs:
        video = ctx.asset(str(ctx.params.asset_id))
        if video.kind != "video":
            raise NodeError(f"A Clip needs a video file (this one is {video.kind}): choose a video.", code="not_video")
        return {"video": video.id}
