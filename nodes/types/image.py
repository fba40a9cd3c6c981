from uuid import UUID

from pydantic import Field

from nodes.types.base import NodeType, Outputs, Params, Port, Problem, RunContext, Usage


class ImageParams(Params):
    asset_id: UUID | None = Field(default=None, description="The uploaded photo.")


class ImageNode(NodeType):
    name = "image"
    label = "Image"
    description = "A photo. When it shows a face, the person becomes a reusable character."
    queue = "faces"
    outputs = (Port("image", "image"), Port("character", "character"))
    Params = ImageParams

    def check(self, params: ImageParams, inputs) -> list[Problem]:
        if params.asset_id is None:
            return [Problem("Upload or choose an image.", code="required", field="asset_id")]
        return []

    def estimate(self, params: ImageParams, inputs) -> list[Usage]:
        return [Usage("faces")]

    def asset_ids(self, params: ImageParams) -> list[str]:
        return [str(params.asset_id)] if params.asset_id else []

    def run(self, ctx: RunContext) -> Outputs:
        image = ctx.asset(str(ctx.params.asset_id))
        ctx.progress(0.1, "Looking for a face")
        analysis = ctx.faces.analyze(ctx.path(image))
        ctx.state["faces_found"] = len(analysis.faces)
        outputs: Outputs = {"image": image.id}
        if analysis.faces:
            # The most prominent face: large and confidently detected.
            face = max(analysis.faces, key=lambda found: found.det_score * found.area)
            ctx.progress(0.7, "Matching the character")
            outputs["character"] = ctx.character_for(face, image, ctx.faces)
        return outputs
