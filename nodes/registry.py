"""Every node type, registered explicitly: greppable, no import magic."""

from nodes.types.base import NodeType
from nodes.types.prompt import PromptNode

NODE_TYPES: dict[str, type[NodeType]] = {
    PromptNode.name: PromptNode,
}


class UnknownNodeType(LookupError):
    pass


def get_node_type(name: str) -> NodeType:
    try:
        return NODE_TYPES[name]()
    except KeyError:
        raise UnknownNodeType(f"unknown node type {name!r}; known types: {', '.join(NODE_TYPES)}") from None
