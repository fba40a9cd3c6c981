from uuid import UUID

from pydantic import Field

from nodes.types.base import NodeType, Outputs, Params, Port, Problem, RunContext


class AudioParams(Params):
    asset_id: UUID | None = Field(default=None, description="The uploaded sound or music.")


class AudioNode(NodeType):
    name = "audio"
    label = "Audio"
    description = "A soundtrack to lay under stitched clips."
    queue = "media"
    outputs = (Port("audio", "audio"),)
    Params = AudioParams

    def check(self, params: AudioParams, inputs) -> list[Problem]:
        if params.asset_id is None:
            return [Problem("Upload or choose an audio file.", code="required", field="asset_id")]
        return []

    def asset_ids(self, params: AudioParams) -> list[str]:
        return [str(params.asset_id)] if params.asset_id else []

    def run(self, ctx: RunContext) -> Outputs:
        return {"audio": ctx.asset(str(ctx.params.asset_id)).id}
