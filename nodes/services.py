from django.db import transaction

from nodes.graph import Graph, GraphEdge, GraphNode
from nodes.models import Edge, Node, Take


def load_graph(project) -> Graph:
    """The project's whole graph as plain data, in two queries."""
    nodes = [
        GraphNode(id=str(node.id), type=node.type, params=node.params, title=node.title)
        for node in Node.objects.filter(project=project).only("id", "type", "params", "title")
    ]
    edges = [
        GraphEdge(
            id=str(edge.id),
            source=str(edge.source_id),
            source_port=edge.source_port,
            target=str(edge.target_id),
            target_port=edge.target_port,
            order=edge.order,
        )
        for edge in Edge.objects.filter(project=project)
    ]
    return Graph(nodes, edges)


@transaction.atomic
def select_take(node: Node, take: Take) -> Node:
    """Use an earlier take: the node goes back to the params that made it, and downstream follows it."""
    if take.node_id != node.id:
        raise ValueError("That take belongs to another node.")
    node = Node.objects.select_for_update().get(pk=node.pk)
    node.selected_take = take
    node.params = take.params
    node.output = take.outputs
    node.cache_key = take.cache_key
    node.status = Node.Status.SUCCEEDED
    node.error_message = ""
    node.version += 1
    node.save()
    return node
