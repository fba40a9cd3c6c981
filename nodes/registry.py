"""Every node type, registered explicitly: greppable, no import magic."""

from nodes.types.audio import AudioNode
from nodes.types.base import NodeType
from nodes.types.clip import ClipNode
from nodes.types.extend import ExtendNode
from nodes.types.generate_image import GenerateImageNode
from nodes.types.image import ImageNode
from nodes.types.music import MusicNode
from nodes.types.prompt import PromptNode
from nodes.types.stitch import StitchNode
from nodes.types.storyboard import StoryboardNode
from nodes.types.video import VideoNode

NODE_TYPES: dict[str, NodeType] = {
    node_type.name: node_type
    for node_type in (
        ImageNode(),
        AudioNode(),
        PromptNode(),
        StoryboardNode(),
        GenerateImageNode(),
        MusicNode(),
        VideoNode(),
        ExtendNode(),
        StitchNode(),
        ClipNode(),
    )
}


class UnknownNodeType(LookupError):
    pass


def get_node_type(name: str) -> NodeType:
    try:
        return NODE_TYPES[name]
    except KeyError:
        raise UnknownNodeType(f"Unknown node type {name!r}: choose one of {', '.join(NODE_TYPES)}.") from None
