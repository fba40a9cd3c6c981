"""Graph logic on plain data: no database, no workers."""

import pytest

from nodes.graph import Graph, GraphEdge, GraphNode, cache_key
from nodes.registry import NODE_TYPES

ASSET = "9b0f1b6c-5a3c-4a5e-9f0e-1a2b3c4d5e6f"


def node(id, type, title="", **params):
    return GraphNode(id=id, type=type, params=params, title=title or id)


def edge(source, source_port, target, target_port, order=0):
    return GraphEdge(f"{source}.{source_port}->{target}.{target_port}", source, source_port, target, target_port, order)


def problems_of(graph, ids=None):
    found = {}
    for problem in graph.validate(ids).problems:
        found.setdefault(problem.node_id, []).append(problem)
    return found


def film(**video):
    return Graph(
        [
            node("img", "image", asset_id=ASSET),
            node("txt", "prompt", text="A lighthouse at dawn"),
            node("vid", "video", **video),
            node("ext", "extend"),
            node("cut", "stitch"),
        ],
        [
            edge("txt", "text", "vid", "prompt"),
            edge("img", "image", "vid", "first_frame"),
            edge("vid", "video", "ext", "video"),
            edge("vid", "video", "cut", "videos", 0),
            edge("ext", "clip", "cut", "videos", 1),
        ],
    )


def test_a_valid_graph_has_no_problems_and_an_upstream_first_order():
    validation = film().validate()

    assert validation.problems == []
    order = validation.order
    assert order.index("txt") < order.index("vid") < order.index("ext") < order.index("cut")
    assert order.index("img") < order.index("vid")


def test_the_upstream_closure_is_the_target_and_everything_it_needs():
    graph = film()

    assert graph.upstream_closure(["ext"]) == {"ext", "vid", "txt", "img"}
    assert graph.upstream_closure(["txt"]) == {"txt"}
    assert graph.upstream_closure(["cut", "img"]) == {"cut", "ext", "vid", "txt", "img"}


def test_every_problem_of_every_node_is_reported():
    graph = Graph(
        [
            node("a", "prompt", text=""),
            node("b", "video", resolution="1080p", duration_seconds=6, colour="red"),
            node("c", "extend"),
            node("d", "stitch"),
        ],
        [
            edge("a", "text", "b", "prompt"),
            edge("a", "text", "b", "first_frame"),
            edge("a", "text", "d", "videos"),
        ],
    )

    found = problems_of(graph)

    assert [p.code for p in found["a"]] == ["required"]
    assert sorted(p.code for p in found["b"]) == ["invalid_param", "kind_mismatch"]
    assert [p.port for p in found["c"]] == ["video"]
    assert [p.code for p in found["d"]] == ["kind_mismatch"]
    mismatch = next(p for p in found["b"] if p.code == "kind_mismatch")
    assert mismatch.message == "First frame needs an image, but the Text output of a is text."


def test_veo_parameter_rules_name_the_field_and_the_fix():
    found = problems_of(film(resolution="4k", duration_seconds=6))["vid"]

    assert [(p.field, p.message) for p in found] == [
        ("duration_seconds", "4k videos are 8 seconds long: set the duration to 8 s or the resolution to 720p.")
    ]


def test_a_last_frame_needs_a_first_frame():
    graph = Graph(
        [node("t", "prompt", text="x"), node("i", "image", asset_id=ASSET), node("v", "video")],
        [edge("t", "text", "v", "prompt"), edge("i", "image", "v", "last_frame")],
    )

    assert [(p.port, p.code) for p in problems_of(graph)["v"]] == [("last_frame", "veo_rule")]


@pytest.mark.parametrize(
    ("duration", "expected"),
    [(4, [("duration_seconds", "veo_rule")]), (6, [("duration_seconds", "veo_rule")]), (8, [])],
)
def test_a_video_between_a_first_and_a_last_frame_is_8_seconds_long(duration, expected):
    # Google's Veo 3.1 table: durationSeconds "must be 8 when using extension or interpolation".
    graph = Graph(
        [
            node("t", "prompt", text="x"),
            node("a", "image", asset_id=ASSET),
            node("b", "image", asset_id=ASSET),
            node("v", "video", duration_seconds=duration),
        ],
        [
            edge("t", "text", "v", "prompt"),
            edge("a", "image", "v", "first_frame"),
            edge("b", "image", "v", "last_frame"),
        ],
    )

    assert [(p.field, p.code) for p in problems_of(graph).get("v", [])] == expected


def test_one_first_frame_allows_any_duration():
    graph = Graph(
        [node("t", "prompt", text="x"), node("a", "image", asset_id=ASSET), node("v", "video", duration_seconds=4)],
        [edge("t", "text", "v", "prompt"), edge("a", "image", "v", "first_frame")],
    )

    assert problems_of(graph).get("v", []) == []


def test_characters_cannot_be_combined_with_a_first_frame_and_are_at_most_three():
    images = [node(f"i{n}", "image", asset_id=ASSET) for n in range(4)]
    graph = Graph(
        [node("t", "prompt", text="x"), node("v", "video", model="veo-3.1-fast-generate-preview"), *images],
        [edge("t", "text", "v", "prompt"), edge("i0", "image", "v", "first_frame")]
        + [edge(f"i{n}", "character", "v", "characters", n) for n in range(4)],
    )

    found = {(p.code, p.port or p.field) for p in problems_of(graph)["v"]}

    assert found == {("too_many_inputs", "characters"), ("veo_rule", "characters"), ("veo_rule", "model")}


def test_two_edges_into_a_single_input_are_refused():
    graph = Graph(
        [node("t1", "prompt", text="x"), node("t2", "prompt", text="y"), node("v", "video")],
        [edge("t1", "text", "v", "prompt"), edge("t2", "text", "v", "prompt")],
    )

    (problem,) = problems_of(graph)["v"]
    assert (problem.code, problem.port) == ("too_many_inputs", "prompt")


def test_a_cycle_is_reported_on_each_of_its_nodes_and_nothing_is_ordered():
    graph = Graph(
        [node("t", "prompt", text="x"), node("v", "video"), node("e1", "extend"), node("e2", "extend")],
        [
            edge("t", "text", "v", "prompt"),
            edge("e2", "video", "e1", "video"),
            edge("e1", "video", "e2", "video"),
        ],
    )

    validation = graph.validate()

    assert {p.node_id for p in validation.problems if p.code == "cycle"} == {"e1", "e2"}
    assert validation.order == []


def extension_chain(length, **source):
    nodes = [node("t", "prompt", text="x"), node("v", "video", **source)]
    edges = [edge("t", "text", "v", "prompt")]
    previous = "v"
    for n in range(length):
        nodes.append(node(f"e{n}", "extend"))
        edges.append(edge(previous, "video", f"e{n}", "video"))
        previous = f"e{n}"
    return Graph(nodes, edges)


def test_a_chain_of_twenty_veo_extensions_is_allowed_and_the_twenty_first_refused():
    assert extension_chain(20).validate().problems == []

    (problem,) = extension_chain(21).validate().problems
    assert (problem.node_id, problem.code) == ("e20", "veo_extension_limit")


def test_veo_extension_needs_a_720p_eight_second_veo_video():
    found = problems_of(extension_chain(1, resolution="1080p"))

    assert [p.code for p in found["e0"]] == ["veo_rule"]
    assert "720p" in found["e0"][0].message
    assert (
        extension_chain(1, duration_seconds=6)
        .validate()
        .problems[0]
        .message.startswith("Veo extends videos generated at 8 seconds only")
    )


def test_a_stitched_video_can_only_be_extended_from_its_last_frame():
    graph = Graph(
        [node("t", "prompt", text="x"), node("v", "video"), node("s", "stitch"), node("e", "extend")],
        [edge("t", "text", "v", "prompt"), edge("v", "video", "s", "videos"), edge("s", "video", "e", "video")],
    )

    assert problems_of(graph)["e"][0].message == (
        "Veo can only extend a video Veo made: set the mode to last_frame, which extends any video."
    )
    graph.nodes["e"] = node("e", "extend", mode="last_frame")
    assert graph.validate().problems == []


@pytest.fixture
def prompt_node():
    return node("p", "prompt", text="A lighthouse")


def key(graph_node, inputs=None, assets=()):
    node_type = NODE_TYPES[graph_node.type]
    return cache_key(graph_node, node_type, node_type.Params.model_validate(graph_node.params), inputs or {}, assets)


def test_cache_keys_change_with_params_inputs_assets_and_type_version(prompt_node, monkeypatch):
    base = key(prompt_node)

    assert key(node("p", "prompt", text="A lighthouse")) == base  # same content, same key
    assert key(node("q", "prompt", title="renamed", text="A lighthouse")) == base  # id and title do not matter
    assert key(node("p", "prompt", text="A lighthouse", enhance=False)) == base  # defaults are canonical
    assert key(node("p", "prompt", text="A tower")) != base
    assert key(prompt_node, {"image": ["k1:t1/image"]}) != base
    assert key(prompt_node, {"image": ["k1:t1/image"]}) != key(prompt_node, {"image": ["k1:t2/image"]})
    assert key(prompt_node, assets=["abc"]) != base
    monkeypatch.setattr(NODE_TYPES["prompt"], "version", 99)
    assert key(prompt_node) != base
