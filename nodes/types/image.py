from uuid import UUID

from pydantic import Field, model_serializer

from nodes.types.base import NodeError, Outputs, Params, Port, RunContext, Usage
from nodes.types.uploaded import UploadedFileNode

NO_FACE = "No face found: the image still works as a first or last frame, but makes no character."


class ImageParams(Params):
    asset_id: UUID | None = Field(default=None, description="The uploaded photo.")
    character: UUID | None = Field(
        default=None, description="A character of your library: the node outputs it as is, without face detection."
    )
    face: int = Field(
        default=1,
        ge=1,
        le=50,
        description="When the photo shows several people, which one becomes the character: "
        "1 is the largest face, 2 the next largest, and so on (the run lists every face it found).",
    )

    @model_serializer(mode="wrap")
    def _without_defaults_added_later(self, handler):
        # Params are part of cache keys: an image without a chosen character, or with the largest face,
        # keeps the key it had before these settings existed, so no existing output (or anything
        # downstream, such as a paid video) runs again.
        dumped = handler(self)
        if dumped.get("character") is None:
            dumped.pop("character", None)
        if dumped.get("face") == 1:
            dumped.pop("face", None)
        return dumped


class ImageNode(UploadedFileNode):
    wanted = "an image"
    name = "image"
    label = "Image"
    description = "A photo. When it shows a face, the person becomes a reusable character."
    # The face model is deliberately not part of the version: a new version re-runs every image node
    # and, through the new takes, every paid video downstream of it. Characters made by an earlier
    # model are re-embedded by `manage.py reembed_characters` instead.
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
