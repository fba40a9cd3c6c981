from uuid import UUID

from pydantic import Field

from nodes.types.base import NodeType, Outputs, Params, Port, Problem, RunContext, Usage
from nodes.types.capabilities import NodeError

NO_FACE = "No face found: the image still works as a first or last frame, but makes no character."


class ImageParams(Params):
    asset_id: UUID | None = Field(default=None, description="The uploaded photo.")
    face: int = Field(
        default=1,
        ge=1,
        le=50,
        description="When the photo shows several people, which one becomes the character: "
        "1 is the largest face, 2 the next largest, and so on (the run lists every face it found).",
    )


class ImageNode(NodeType):
    name = "image"
    label = "Image"
    description = "A photo. When it shows a face, the person becomes a reusable character."
    # 3: faces are recognised by YuNet + SFace offline (another model: characters are matched anew).
    version = 3
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
        ctx.progress(0.1, f"Looking for faces ({ctx.faces.label})")
        faces = sorted(ctx.faces.analyze(ctx.path(image)).faces, key=lambda face: face.area, reverse=True)
        ctx.state["faces"] = [
            {"bbox": list(face.bbox), "det_score": round(face.det_score, 3), "age": face.age, "sex": face.sex}
            for face in faces
        ]
        ctx.state["approximate"] = ctx.faces.approximate
        outputs: Outputs = {"image": image.id}
        if not faces:
            ctx.state["notice"] = NO_FACE
            return outputs
        if ctx.params.face > len(faces):
            found = "one face" if len(faces) == 1 else f"{len(faces)} faces"
            raise NodeError(
                f"This photo shows {found}, so there is no face {ctx.params.face}: "
                f"set Face to a number from 1 to {len(faces)} (1 is the largest).",
                code="no_such_face",
            )
        ctx.progress(0.7, "Matching the character")
        # The chosen face (the largest unless the user picked another) is the character; every
        # face stays listed, largest first, with its box.
        ctx.state["faces"][ctx.params.face - 1]["character"] = True
        outputs["character"] = ctx.character_for(faces[ctx.params.face - 1], image, ctx.faces)
        return outputs
