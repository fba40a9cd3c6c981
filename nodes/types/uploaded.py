from typing import Any, ClassVar

from nodes.types.base import NodeType, Problem


class UploadedFileNode(NodeType):
    """A node whose output is a file the user uploaded (`params.asset_id`)."""

    wanted: ClassVar[str]  # what to upload, in the problem shown until there is one: "an image"

    def check(self, params: Any, inputs) -> list[Problem]:
        if params.asset_id is None:
            return [Problem(f"Upload or choose {self.wanted}.", code="required", field="asset_id")]
        return []

    def asset_ids(self, params: Any) -> list[str]:
        return [str(params.asset_id)] if params.asset_id else []
