from uuid import UUID

from pydantic import Field

from nodes.types.base import Outputs, Params, Port, RunContext
from nodes.types.uploaded import UploadedFileNode


class AudioParams(Params):
    asset_id: UUID | None = Field(default=None, description="The uploaded sound or music.")


class AudioNode(UploadedFileNode):
    wanted = "an audio file"
    name = "audio"
    label = "Audio"
    description = "A soundtrack to lay under stitched clips."
    queue = "media"
    outputs = (Port("audio", "audio"),)
    Params = AudioParams

    def run(self, ctx: RunContext) -> Outputs:
        return {"audio": ctx.asset(str(ctx.params.asset_id)).id}
