"""The exact problems the graph reports (what the user reads, on which node, port and field), the
boundaries of its rules, and the stability of cache keys. Pure Python: no database, no workers.

Written against the survivors of a mutation run of nodes/graph.py (docs/TESTING.md): each test pins
a behaviour that a plausible small bug changed without any other test noticing."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, model_validator

from nodes.graph import Graph, GraphInvalid, GraphNode, NodeProblem, cache_key, output_identity
from nodes.registry import NODE_TYPES
from nodes.types.base import NodeType, Params
from tests.test_graph import ASSET, edge, key, node


def untitled(id, type, **params):
    return GraphNode(id=id, type=type, params=params)


def problems(graph, ids=None):
    return [(p.node_id, p.code, p.port, p.field, p.message) for p in graph.validate(ids).problems]


def test_an_unknown_node_type_names_the_type_and_every_known_one():
    graph = Graph([node("x", "hologram")], [])

    assert problems(graph) == [
        ("x", "unknown_type", None, None, f"Unknown node type 'hologram': use one of {', '.join(NODE_TYPES)}.")
    ]


def test_a_missing_required_input_names_the_port_and_what_to_connect():
    graph = Graph([node("v", "video"), node("s", "stitch"), node("e", "extend")], [])

    assert problems(graph) == [
        ("e", "missing_input", "video", None, "Connect a video to Video."),
        ("s", "missing_input", "videos", None, "Connect a video to Clips."),
        ("v", "missing_input", "prompt", None, "Connect text to Prompt."),
    ]


def test_an_edge_into_an_input_the_type_does_not_have_is_reported_on_that_port():
    graph = Graph([node("t", "prompt", text="x"), node("s", "stitch")], [edge("t", "text", "s", "subtitles")])

    assert ("s", "unknown_port", "subtitles", None, "Stitch has no input 'subtitles'.") in problems(graph)


def test_an_edge_from_an_output_the_source_does_not_have_is_reported_on_the_target():
    graph = Graph(
        [node("t", "prompt", text="x", title="My prompt"), node("v", "video")], [edge("t", "poster", "v", "prompt")]
    )

    assert problems(graph) == [("v", "unknown_port", "prompt", None, "My prompt has no output 'poster'.")]


def test_a_node_without_a_title_is_named_by_its_type():
    graph = Graph(
        [untitled("t", "prompt", text="x"), untitled("v", "video")],
        [edge("t", "text", "v", "first_frame"), edge("t", "text", "v", "prompt")],
    )

    (mismatch,) = [p for p in graph.validate().problems if p.code == "kind_mismatch"]
    assert (mismatch.port, mismatch.message) == (
        "first_frame",
        "First frame needs an image, but the Text output of the Prompt node is text.",
    )


def test_too_many_connections_into_a_single_input_say_how_many_to_remove():
    graph = Graph(
        [node(f"t{n}", "prompt", text="x") for n in range(3)] + [node("v", "video")],
        [edge(f"t{n}", "text", "v", "prompt") for n in range(3)],
    )

    assert problems(graph) == [
        ("v", "too_many_inputs", "prompt", None, "Prompt takes one connection; 3 are connected: remove 2.")
    ]


def characters_into_a_video(count):
    images = [node(f"i{n}", "image", asset_id=ASSET) for n in range(count)]
    return Graph(
        [node("t", "prompt", text="x"), node("v", "video"), *images],
        [edge("t", "text", "v", "prompt")] + [edge(f"i{n}", "character", "v", "characters", n) for n in range(count)],
    )


def test_a_multi_input_takes_exactly_its_maximum_and_one_more_is_refused_with_the_count_to_remove():
    assert problems(characters_into_a_video(3)) == []

    found = problems(characters_into_a_video(5))
    assert (
        "v",
        "too_many_inputs",
        "characters",
        None,
        "Characters takes at most 3; 5 are connected: remove 2.",
    ) in found


def test_a_node_connected_to_itself_is_a_loop_and_a_lone_node_is_not():
    graph = Graph(
        [node("t", "prompt", text="x"), node("v", "video"), node("e", "extend")],
        [edge("t", "text", "v", "prompt"), edge("v", "video", "e", "video"), edge("e", "video", "e", "video")],
    )

    validation = graph.validate()

    assert [(p.node_id, p.code, p.message) for p in validation.problems if p.code == "cycle"] == [
        ("e", "cycle", "This node is part of a loop (e): remove one of its connections.")
    ]
    assert validation.order == []


def test_a_loop_names_all_its_members_and_what_lies_downstream_of_it_gets_no_rule_checks():
    graph = Graph(
        [node("a", "extend"), node("b", "extend"), node("c", "extend", resolution_typo=True)],
        [edge("a", "video", "b", "video"), edge("b", "video", "a", "video"), edge("b", "video", "c", "video")],
    )

    validation = graph.validate()

    loop = [(p.node_id, p.message) for p in validation.problems if p.code == "cycle"]
    assert loop == [
        ("a", "This node is part of a loop (a, b): remove one of its connections."),
        ("b", "This node is part of a loop (a, b): remove one of its connections."),
    ]
    # c is not in the loop (no cycle problem) but cannot be ordered: only its own params are checked.
    assert [p.code for p in validation.problems if p.node_id == "c"] == ["invalid_param"]
    assert validation.facts == {}


def test_rule_checks_still_run_for_nodes_beside_a_loop():
    graph = Graph(
        [
            node("a", "extend"),
            node("b", "extend"),
            node("t", "prompt", text="x"),
            node("v", "video", resolution="4k", duration_seconds=6),
        ],
        [edge("a", "video", "b", "video"), edge("b", "video", "a", "video"), edge("t", "text", "v", "prompt")],
    )

    assert [p.code for p in graph.validate().problems if p.node_id == "v"] == ["veo_rule"]


def test_validation_hands_back_parsed_params_and_output_facts():
    graph = Graph([node("t", "prompt", text="x"), node("v", "video")], [edge("t", "text", "v", "prompt")])

    validation = graph.validate()

    assert validation.params["v"].duration_seconds == 8
    assert validation.facts["v"]["video"]["duration"] == 8
    assert set(validation.params) == {"t", "v"}


def test_validating_a_subset_checks_only_that_subset():
    graph = Graph([node("t", "prompt", text=""), node("s", "stitch")], [])

    assert [p.node_id for p in graph.validate(["s"]).problems] == ["s"]
    assert {p.node_id for p in graph.validate().problems} == {"s", "t"}


def test_edges_to_or_from_nodes_outside_the_graph_are_ignored():
    graph = Graph(
        [node("t", "prompt", text="x")], [edge("t", "text", "gone", "prompt"), edge("gone", "text", "t", "image")]
    )

    assert graph.edges == []
    assert graph.incoming("t") == {}


def test_inputs_from_a_source_without_facts_are_empty_facts():
    graph = Graph([node("t", "prompt", text="x"), node("v", "video")], [edge("t", "text", "v", "prompt")])

    assert graph.input_facts("v", {}) == {"prompt": [{}]}
    assert graph.input_facts("v", {"t": {}}) == {"prompt": [{}]}


def test_unknown_and_wrong_settings_name_the_field_and_the_fix():
    graph = Graph(
        [node("t", "prompt", text="x"), node("v", "video", resolution="8k", colour="red")],
        [edge("t", "text", "v", "prompt")],
    )

    found = {(p.field, p.message) for p in graph.validate().problems}

    assert ("colour", "colour: Unknown setting: remove it.") in found
    assert ("resolution", "resolution: Choose one of '720p', '1080p' or '4k'.") in found


def test_problems_group_by_node_without_repeating_the_node_id():
    error = GraphInvalid(
        [NodeProblem("a", "one"), NodeProblem("b", "two", "cycle"), NodeProblem("a", "three", port="p")]
    )

    assert str(error) == "3 problem(s) in 2 node(s) stop this run."
    assert error.by_node() == {
        "a": [
            {"message": "one", "code": "invalid", "port": None, "field": None},
            {"message": "three", "code": "invalid", "port": "p", "field": None},
        ],
        "b": [{"message": "two", "code": "cycle", "port": None, "field": None}],
    }


def test_cache_keys_are_stable_across_releases():
    """Keys are stored with every take: if the way a key is computed changes, every cached node in every
    project runs (and is paid for) again. Changing this value must be a deliberate decision."""
    prompt = node("p", "prompt", text="A lighthouse")

    assert key(prompt, {"image": [output_identity("k1", "t1", "image")]}, ["abc"]) == (
        "d55fac7b54695322682e4f73c00e2494a83fdbe5b3831c49718b5a1c80993214"
    )


def test_image_and_video_keys_are_stable_across_releases():
    """New settings with defaults, a new face model or a new field must not change the keys of nodes
    that already ran: every video downstream of an image would be paid for again."""
    assert key(node("i", "image", asset_id=ASSET)) == "093681f91b8f9f73496f87d8b549906ac485631cef4c1d2a2a5135c54e059a03"
    assert key(node("v", "video"), {"prompt": ["k:t/text"]}) == (
        "071564ebf6d6e71eba8b44490c35c73939390b524225497830375253179f029a"
    )


def test_asking_for_several_takes_is_a_change_but_one_take_keeps_the_key_of_before():
    """`variations` came after videos had run: at 1 it leaves their keys as they were (the pinned one
    above); several takes make another key, so changing it runs the node, and going back is cached."""
    inputs = {"prompt": ["k:t/text"]}
    before = key(node("v", "video"), inputs)

    assert key(node("v", "video", variations=1), inputs) == before
    assert (
        len({before, key(node("v", "video", variations=2), inputs), key(node("v", "video", variations=3), inputs)}) == 3
    )


@pytest.mark.parametrize("order", [["k2", "k1"], ["k1", "k2"]])
def test_the_order_of_inputs_into_a_multi_port_is_part_of_the_key(order):
    stitch = node("s", "stitch")
    node_type = NODE_TYPES["stitch"]
    params = node_type.Params.model_validate({})

    forward = cache_key(stitch, node_type, params, {"videos": ["k1", "k2"]})
    assert (cache_key(stitch, node_type, params, {"videos": order}) == forward) == (order == ["k1", "k2"])


def test_a_node_downstream_of_a_loop_is_neither_ordered_nor_rule_checked():
    graph = Graph(
        [node("a", "extend"), node("b", "extend"), node("c", "extend")],
        [edge("a", "video", "b", "video"), edge("b", "video", "a", "video"), edge("b", "video", "c", "video")],
    )

    validation = graph.validate()

    assert [(p.node_id, p.code) for p in validation.problems] == [("a", "cycle"), ("b", "cycle")]
    assert "c" not in validation.facts


def test_a_loop_through_nodes_of_unknown_types_names_them_by_type():
    graph = Graph(
        [untitled("a", "hologram"), untitled("b", "hologram")],
        [edge("a", "out", "b", "in"), edge("b", "out", "a", "in")],
    )

    messages = {p.message for p in graph.validate().problems if p.code == "cycle"}

    assert messages == {
        "This node is part of a loop (the hologram node, the hologram node): remove one of its connections."
    }


def test_a_wrong_kind_into_a_soundtrack_says_audio():
    graph = Graph(
        [node("t", "prompt", text="x"), node("s", "stitch")],
        [edge("t", "text", "s", "audio")],
    )

    assert ("s", "kind_mismatch", "audio", None, "Soundtrack needs audio, but the Text output of t is text.") in (
        problems(graph)
    )


def test_a_setting_of_the_wrong_type_keeps_the_validators_words():
    graph = Graph([node("t", "prompt", text=123)], [])

    (problem,) = graph.validate().problems
    assert (problem.code, problem.field, problem.message) == (
        "invalid_param",
        "text",
        "text: Input should be a valid string",
    )


class Shot(BaseModel):
    text: str
    seconds: int


class ShotListParams(Params):
    shots: list[Shot] = []

    @model_validator(mode="after")
    def not_too_long(self):
        if sum(shot.seconds for shot in self.shots) > 60:
            raise ValueError("the shots last longer than a minute")
        return self


class ShotList(NodeType):
    name = "shots"
    label = "Shot list"
    Params = ShotListParams


def test_nested_and_whole_model_setting_problems_name_their_place():
    types = {**NODE_TYPES, "shots": ShotList()}
    nested = Graph([node("s", "shots", shots=[{"text": "a", "seconds": "x"}])], [], types)
    whole = Graph([node("s", "shots", shots=[{"text": "a", "seconds": 61}])], [], types)

    (problem,) = nested.validate().problems
    assert (problem.field, problem.message.split(":")[0]) == ("shots.0.seconds", "shots.0.seconds")
    (problem,) = whole.validate().problems
    assert (problem.field, problem.message) == (None, "Value error, the shots last longer than a minute")


def test_cache_keys_of_params_holding_ids_are_computed_from_their_json_form():
    image = node("i", "image", asset_id=ASSET)

    assert key(image) == key(node("j", "image", asset_id=ASSET.upper()))
    assert key(image) != key(node("i", "image", asset_id=ASSET.replace("9b", "8b")))


def reachable(start, edges):
    seen, pending = set(), [start]
    while pending:
        current = pending.pop()
        for source, target in edges:
            if source == current and target not in seen:
                seen.add(target)
                pending.append(target)
    return seen


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), max_size=14, unique=True))
def test_loops_are_reported_on_exactly_the_nodes_that_reach_themselves_naming_their_whole_loop(pairs):
    """Against the definition: a node is in a loop when it can reach itself; its loop is every node
    it reaches that reaches it back."""
    names = [f"n{i}" for i in range(7)]
    pairs = [(names[a], names[b]) for a, b in pairs]
    graph = Graph([node(name, "extend") for name in names], [edge(a, "video", b, "video") for a, b in pairs])

    reported = {p.node_id: p.message for p in graph.validate().problems if p.code == "cycle"}

    in_loop = {name for name in names if name in reachable(name, pairs)}
    assert set(reported) == in_loop
    for name in in_loop:
        loop = sorted(other for other in reachable(name, pairs) if name in reachable(other, pairs))
        assert reported[name] == f"This node is part of a loop ({', '.join(loop)}): remove one of its connections."
