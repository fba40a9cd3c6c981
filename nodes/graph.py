"""Graph logic on plain data: validation, upstream closure, topological order, cache keys.

No ORM here. The engine loads a project's nodes and edges once and hands them over as
`GraphNode` and `GraphEdge`; everything below is pure Python, tested without a database.
Validation reports every problem of every node, never just the first.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from graphlib import TopologicalSorter
from typing import Any

from pydantic import BaseModel, ValidationError

from config.errors import Unprocessable
from nodes.registry import NODE_TYPES
from nodes.types.base import Facts, NodeType, Problem


@dataclass(frozen=True)
class GraphNode:
    id: str
    type: str
    params: Mapping[str, Any] = field(default_factory=dict)
    title: str = ""


@dataclass(frozen=True)
class GraphEdge:
    id: str
    source: str
    source_port: str
    target: str
    target_port: str
    order: int = 0


@dataclass(frozen=True)
class NodeProblem:
    node_id: str
    message: str
    code: str = "invalid"
    port: str | None = None
    field: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if key != "node_id"}


class GraphInvalid(Unprocessable):
    """The graph cannot run; `problems` lists every reason, per node (`details.nodes` in the API)."""

    code = "graph_invalid"

    def __init__(self, problems: Sequence[NodeProblem]) -> None:
        self.problems = list(problems)
        count = len({problem.node_id for problem in self.problems})
        super().__init__(f"{len(self.problems)} problem(s) in {count} node(s) stop this run.")
        self.details = {"nodes": self.by_node()}

    def by_node(self) -> dict[str, list[dict[str, Any]]]:
        grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for problem in self.problems:
            grouped[problem.node_id].append(problem.as_dict())
        return dict(grouped)


@dataclass
class Validation:
    problems: list[NodeProblem]
    params: dict[str, BaseModel]  # parsed params of every node whose params are valid
    facts: dict[str, dict[str, Facts]]  # output port facts per node, where they could be derived
    order: list[str]  # topological order of the validated nodes (empty when there is a cycle)


class Graph:
    def __init__(
        self,
        nodes: Iterable[GraphNode],
        edges: Iterable[GraphEdge],
        types: Mapping[str, NodeType] = NODE_TYPES,
    ) -> None:
        self.nodes = {node.id: node for node in nodes}
        self.edges = [edge for edge in edges if edge.source in self.nodes and edge.target in self.nodes]
        self.types = types
        self._incoming: dict[str, dict[str, list[GraphEdge]]] = defaultdict(lambda: defaultdict(list))
        for edge in sorted(self.edges, key=lambda e: (e.order, e.id)):
            self._incoming[edge.target][edge.target_port].append(edge)

    def incoming(self, node_id: str) -> dict[str, list[GraphEdge]]:
        """Edges into a node, per input port, in their order."""
        return self._incoming.get(node_id, {})

    def sources(self, node_id: str) -> set[str]:
        return {edge.source for edges in self.incoming(node_id).values() for edge in edges}

    def label(self, node_id: str) -> str:
        node = self.nodes[node_id]
        node_type = self.types.get(node.type)
        return node.title or f"the {node_type.label if node_type else node.type} node"

    def upstream_closure(self, targets: Iterable[str]) -> set[str]:
        """The targets and everything they need, transitively."""
        return self._reach(targets, self.sources)

    def downstream_closure(self, sources: Iterable[str]) -> set[str]:
        """The sources and everything that depends on them, transitively."""
        targets: dict[str, set[str]] = defaultdict(set)
        for edge in self.edges:
            targets[edge.source].add(edge.target)
        return self._reach(sources, targets.__getitem__)

    def _reach(self, starts: Iterable[str], neighbours) -> set[str]:
        seen: set[str] = set()
        pending = [start for start in starts if start in self.nodes]
        while pending:
            node_id = pending.pop()
            if node_id not in seen:
                seen.add(node_id)
                pending.extend(neighbours(node_id))
        return seen

    def topological_order(self, node_ids: Iterable[str]) -> list[str]:
        """Upstream before downstream; raises graphlib.CycleError on a cycle."""
        scope = set(node_ids)
        sorter = TopologicalSorter({node_id: self.sources(node_id) & scope for node_id in sorted(scope)})
        return list(sorter.static_order())

    def validate(self, node_ids: Iterable[str] | None = None) -> Validation:
        scope = set(self.nodes if node_ids is None else node_ids)
        problems: list[NodeProblem] = []
        params: dict[str, BaseModel] = {}
        for node_id in sorted(scope):
            problems += self._check_node(node_id, params)
        cyclic = self._cycles(scope, problems)
        acyclic = scope - cyclic
        order = [] if cyclic else self.topological_order(scope)
        facts: dict[str, dict[str, Facts]] = {}
        for node_id in self.topological_order(acyclic):
            problems += self._check_rules(node_id, params, facts)
        return Validation(problems=problems, params=params, facts=facts, order=order)

    def _check_node(self, node_id: str, parsed: dict[str, BaseModel]) -> list[NodeProblem]:
        node = self.nodes[node_id]
        node_type = self.types.get(node.type)
        if node_type is None:
            known = ", ".join(self.types)
            return [NodeProblem(node_id, f"Unknown node type {node.type!r}: use one of {known}.", "unknown_type")]
        problems = []
        try:
            parsed[node_id] = node_type.Params.model_validate(dict(node.params))
        except ValidationError as error:
            problems += [_param_problem(node_id, detail) for detail in error.errors()]
        incoming = self.incoming(node_id)
        for port_name, edges in incoming.items():
            problems += self._check_port(node_id, node_type, port_name, edges)
        for port in node_type.inputs:
            if port.required and not incoming.get(port.name):
                problems.append(
                    NodeProblem(
                        node_id,
                        f"Connect {_a(port.kind)} to {port.title}.",
                        "missing_input",
                        port=port.name,
                    )
                )
        return problems

    def _check_port(self, node_id: str, node_type: NodeType, port_name: str, edges: list[GraphEdge]):
        port = node_type.input(port_name)
        if port is None:
            return [
                NodeProblem(node_id, f"{node_type.label} has no input {port_name!r}.", "unknown_port", port=port_name)
            ]
        problems = []
        name = port.title
        if not port.multi and len(edges) > 1:
            problems.append(
                NodeProblem(
                    node_id,
                    f"{name} takes one connection; {len(edges)} are connected: remove {len(edges) - 1}.",
                    "too_many_inputs",
                    port=port_name,
                )
            )
        if port.multi and port.max_items is not None and len(edges) > port.max_items:
            problems.append(
                NodeProblem(
                    node_id,
                    f"{name} takes at most {port.max_items}; {len(edges)} are connected: "
                    f"remove {len(edges) - port.max_items}.",
                    "too_many_inputs",
                    port=port_name,
                )
            )
        for edge in edges:
            problems += self._check_edge(node_id, port, edge)
        return problems

    def _check_edge(self, node_id: str, port, edge: GraphEdge) -> list[NodeProblem]:
        source_type = self.types.get(self.nodes[edge.source].type)
        if source_type is None:
            return []  # reported on the source node itself
        output = source_type.output(edge.source_port)
        source = self.label(edge.source)
        if output is None:
            return [
                NodeProblem(node_id, f"{source} has no output {edge.source_port!r}.", "unknown_port", port=port.name)
            ]
        if output.kind != port.kind:
            return [
                NodeProblem(
                    node_id,
                    f"{port.title} needs {_a(port.kind)}, but the {output.title} output of {source} "
                    f"is {_a(output.kind)}.",
                    "kind_mismatch",
                    port=port.name,
                )
            ]
        return []

    def _cycles(self, scope: set[str], problems: list[NodeProblem]) -> set[str]:
        cyclic: set[str] = set()
        for component in strongly_connected(scope, lambda n: self.sources(n) & scope):
            is_self_loop = len(component) == 1 and component[0] in self.sources(component[0])
            if len(component) < 2 and not is_self_loop:
                continue
            members = ", ".join(self.label(node_id) for node_id in component)
            for node_id in component:
                problems.append(
                    NodeProblem(
                        node_id, f"This node is part of a loop ({members}): remove one of its connections.", "cycle"
                    )
                )
            cyclic.update(component)
        # Anything downstream of a loop cannot be ordered either.
        return cyclic | {n for n in scope if self.upstream_closure([n]) & cyclic}

    def input_facts(self, node_id: str, facts: Mapping[str, dict[str, Facts]]) -> dict[str, list[Facts]]:
        """What is known of each input before anything runs, from the facts of the outputs feeding it."""
        return {
            port: [facts.get(edge.source, {}).get(edge.source_port, {}) for edge in edges]
            for port, edges in self.incoming(node_id).items()
        }

    def _check_rules(self, node_id: str, params: dict[str, BaseModel], facts: dict[str, dict[str, Facts]]):
        node_type = self.types.get(self.nodes[node_id].type)
        if node_type is None or node_id not in params:
            return []
        inputs = self.input_facts(node_id, facts)
        facts[node_id] = node_type.describe(params[node_id], inputs)
        return [_node_problem(node_id, problem) for problem in node_type.check(params[node_id], inputs)]


def output_identity(take_cache_key: str, take_id: str, port: str) -> str:
    """How an existing output enters a downstream cache key: which inputs made it, and which take it is."""
    return f"{take_cache_key}:{take_id}/{port}"


# Settings added after nodes had run, with the value that means what the node did before: left out of
# the key at that value, so the outputs made before them stay cached (nothing is paid for again).
LATER_SETTINGS = {"variations": 1}


def cache_key(
    node: GraphNode,
    node_type: NodeType,
    params: BaseModel,
    inputs: Mapping[str, Sequence[str]],
    asset_hashes: Sequence[str] = (),
) -> str:
    """sha256 of what determines a node's output: its type and version, its params, what flows into
    each input port (upstream identities, in order), and the content of the files it refers to."""
    settings = params.model_dump(mode="json")
    for name, default in LATER_SETTINGS.items():
        if settings.get(name, default) == default:
            settings.pop(name, None)
    payload = {
        "type": node.type,
        "version": node_type.version,
        "params": settings,
        "inputs": {port: list(values) for port, values in sorted(inputs.items())},
        "assets": sorted(asset_hashes),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _node_problem(node_id: str, problem: Problem) -> NodeProblem:
    return NodeProblem(node_id, problem.message, problem.code, port=problem.port, field=problem.field)


def _param_problem(node_id: str, detail: dict[str, Any]) -> NodeProblem:
    field_name = ".".join(str(part) for part in detail["loc"]) or None
    message = detail["msg"]
    if detail["type"] == "extra_forbidden":
        message = "Unknown setting: remove it."
    elif detail["type"] == "literal_error":
        message = f"Choose one of {detail['ctx']['expected']}."
    return NodeProblem(
        node_id, f"{field_name}: {message}" if field_name else message, "invalid_param", field=field_name
    )


def _a(kind: str) -> str:
    return {"image": "an image", "text": "text", "audio": "audio"}.get(kind, f"a {kind}")


def strongly_connected(nodes: Iterable[str], sources) -> list[list[str]]:
    """Tarjan's algorithm, iterative; each component in a stable order."""
    index: dict[str, int] = {}
    lowlink: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0
    for root in sorted(nodes):
        if root in index:
            continue
        work = [(root, iter(sorted(sources(root))))]
        index[root] = lowlink[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, neighbours = work[-1]
            advanced = False
            for neighbour in neighbours:
                if neighbour not in index:
                    index[neighbour] = lowlink[neighbour] = counter
                    counter += 1
                    stack.append(neighbour)
                    on_stack.add(neighbour)
                    work.append((neighbour, iter(sorted(sources(neighbour)))))
                    advanced = True
                    break
                if neighbour in on_stack:
                    lowlink[node] = min(lowlink[node], index[neighbour])
            if advanced:
                continue
            work.pop()
            if work:
                lowlink[work[-1][0]] = min(lowlink[work[-1][0]], lowlink[node])
            if lowlink[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components
