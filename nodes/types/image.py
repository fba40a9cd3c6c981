from uuid import UUID

from pydantic import Field, model_serializer

from nodes.types.base import Outputs, Params, Port, RunContext, Usage
from nodes.types.uploaded import UploadedFileNode

NO_FACE = "No face found: the image still works as a first or last frame, but makes no character."


class ImageParams(Params):
    asset_id: UUID | None = Field(default=None, description="The uploaded photo.")
    character: UUID | None = Field(
        default=None, description="A character of your library: the node outputs it as is, without face detection."
    )

    @model_serializer(mode="wrap")
    def _without_unset_character(self, handler):
        # Params are part of cache keys: an image without a character keeps the key it had before
        # characters could be chosen, so no existing output (or anything downstream) runs again.
        dumped = handler(self)
        if dumped.get("character") is None:
            dumped.pop("character", None)
        return dumped


class ImageNode(UploadedFileNode):
    wanted = "an image"
    name = "image"
    label = "Image"
    description = "A photo. When it shows a face, the person becomes a reusable character."
    version = 2
    queue = "faces"
    outputs = (Port("image", "image"), Port("character", "character"))
    Params = ImageParams

    def estimate(self, params: ImageParams, inputs) -> list[Usage]:
        return [] if params.character else [Usage("faces")]

    def run(self, ctx: RunContext) -> Outputs:
        image = ctx.asset(str(ctx.params.asset_id))
        if ctx.params.character:
            character = ctx.own_character(str(ctx.params.character))
            ctx.state["character"] = {"id": character.id, "name": character.name, "created": False, "chosen": True}
            return {"image": image.id, "character": character.id}
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
        ctx.progress(0.7, "Matching the character")
        # The largest face is the character; the others stay listed with their boxes.
        outputs["character"] = ctx.character_for(faces[0], image, ctx.faces)
        return outputs
