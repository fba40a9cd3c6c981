from pydantic import Field

from nodes.types.base import NodeType, Params, Port, RunContext


class PromptParams(Params):
    text: str = Field(default="", max_length=4000, description="What the video should show.")


class PromptNode(NodeType):
    name = "prompt"
    label = "Prompt"
    queue = "text"
    inputs = (Port("image", "image"),)
    outputs = (Port("text", "text"),)
    Params = PromptParams

    def run(self, ctx: RunContext) -> dict[str, str]:
        ctx.progress(1.0, "Prompt ready")
        return {"text": ctx.params.text}
