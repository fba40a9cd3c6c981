"""The rules of graph edits (nodes/services.py), each pinned by what a user or a program reads:
the exact words, code and details of every refusal, the rows left unchanged after one, and the
exact order of multi-valued inputs. Data is built through the node services themselves."""

from __future__ import annotations

import pytest

from config.errors import ApiError
from generation import running
from generation.models import Job, Run
from nodes import services
from nodes.graph import GraphEdge, GraphNode
from nodes.models import Edge, Node
from tests.api import Api
from tests.factories import ProjectFactory
from tests.graphs import upload

pytestmark = pytest.mark.django_db


def node(project, type: str, title: str = "", **params) -> Node:
    return services.add_node(project, type=type, title=title, params=params)


def connect(project, source, source_port, target, target_port, **options):
    return services.connect(
        project, source=source, source_port=source_port, target=target, target_port=target_port, **options
    )


def refusal(call, *arguments, **keywords) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call(*arguments, **keywords)
    return caught.value


def edges_of(project) -> list[tuple]:
    return list(
        Edge.objects.filter(project=project)
        .order_by("target__title", "target_port", "order")
        .values_list("source__title", "source_port", "target__title", "target_port", "order")
    )


# Adding and validating nodes


def test_a_node_is_stored_with_its_place_title_and_only_the_params_it_was_given(project):
    added = services.add_node(project, type="prompt", title="Line", x=12.5, y=-3, params={"text": "A lighthouse"})

    stored = Node.objects.get(pk=added.pk)
    assert (stored.type, stored.title, stored.x, stored.y) == ("prompt", "Line", 12.5, -3)
    assert stored.params == {"text": "A lighthouse"}  # the defaults (enhance, ...) stay implicit
    bare = Node.objects.get(pk=services.add_node(project, type="stitch").pk)
    assert (bare.title, bare.x, bare.y, bare.params) == ("", 0, 0, {})  # nothing given: no title, the origin


def test_an_unknown_node_type_is_refused_naming_the_type_field(project):
    error = refusal(services.add_node, project, type="sora", params={})

    assert (error.status, error.code) == (422, "invalid")
    assert error.message == (
        "Unknown node type 'sora': choose one of "
        "image, audio, prompt, storyboard, generate_image, music, video, extend, stitch, clip."
    )
    assert error.details == {"fields": [{"field": "type", "message": "unknown node type"}]}
    assert not Node.objects.exists()


def test_invalid_params_name_every_field_with_its_path_and_the_message_sums_up_five(project):
    wrong = {f"unknown_{index}": index for index in range(6)} | {"duration_seconds": 5}

    error = refusal(services.add_node, project, type="video", params=wrong)

    fields = error.details["fields"]
    assert [field["field"] for field in fields] == ["params.duration_seconds"] + [
        f"params.unknown_{index}" for index in range(6)
    ]
    assert fields[1]["message"] == "Extra inputs are not permitted"
    summary = "; ".join(f"{field['field']}: {field['message']}" for field in fields[:5])
    assert error.message == f"Some settings are not valid. {summary}"
    assert "params.unknown_4" not in error.message and "params.unknown_3: Extra" in error.message
    assert (error.status, error.code) == (422, "invalid")
    assert not Node.objects.exists()


def test_params_are_stored_as_json(project):
    photo = upload(project)

    image = node(project, "image", "Photo", asset_id=str(photo.id).upper())

    assert image.params == {"asset_id": str(photo.id)}  # a UUID in its JSON form, not an object


# Updating nodes


def test_an_update_applies_only_what_is_sent_and_merges_params(project):
    line = services.add_node(project, type="prompt", title="Line", x=50, y=60, params={"text": "A lighthouse"})

    updated = services.update_node(line, 1, {"x": 0, "title": None, "params": {"enhance": True}})

    stored = Node.objects.get(pk=line.pk)
    assert (stored.title, stored.x, stored.y, stored.version) == ("Line", 0, 60, 2)  # x=0 is a place too
    assert stored.params == {"text": "A lighthouse", "enhance": True}
    assert (updated.x, updated.version, updated.params) == (0, 2, stored.params)
    services.update_node(stored, 2, {"title": "Opening", "y": 0, "params": None})
    assert Node.objects.values_list("title", "x", "y", "params", "version").get(pk=line.pk) == (
        "Opening",
        0,
        0,
        {"text": "A lighthouse", "enhance": True},
        3,
    )


def test_invalid_params_in_an_update_change_nothing(project):
    shot = node(project, "video", "Shot", duration_seconds=6)

    error = refusal(services.update_node, shot, 1, {"title": "Renamed", "params": {"duration_seconds": 5}})

    assert error.details["fields"][0]["field"] == "params.duration_seconds"
    assert Node.objects.values_list("title", "params", "version").get(pk=shot.pk) == (
        "Shot",
        {"duration_seconds": 6},
        1,
    )


def test_a_stale_update_is_refused_with_the_whole_current_node(project):
    line = services.add_node(project, type="prompt", title="Line", x=1, y=2, params={"text": "first"})
    services.update_node(line, 1, {"params": {"text": "second"}})

    error = refusal(services.update_node, line, 1, {"title": "Mine", "params": {"text": "third"}})

    assert (error.status, error.code) == (409, "stale_version")
    assert error.message == (
        "Someone else changed this node (now version 2, you sent 1): reload it and apply your change again."
    )
    now = Node.objects.get(pk=line.pk)
    assert error.details == {
        "node": {
            "id": str(line.id),
            "type": "prompt",
            "title": "Line",
            "x": 1,
            "y": 2,
            "params": {"text": "second"},
            "status": "idle",
            "version": 2,
            "updated_at": now.updated_at.isoformat(),
        }
    }
    assert (now.title, now.params, now.version) == ("Line", {"text": "second"}, 2)


def test_a_node_deleted_meanwhile_is_a_404_that_says_to_reload(project):
    line = node(project, "prompt", "Line", text="x")
    Node.objects.filter(pk=line.pk).delete()

    error = refusal(services.current, Node, line, "node")

    assert (error.status, error.code) == (404, "not_found")
    assert error.message == "That node was deleted a moment ago (by someone else?): reload the graph."
    still = node(project, "prompt", "Other", text="y")
    assert services.current(Node, still, "node").title == "Other"


def test_the_graph_is_read_back_whole_and_only_the_projects_own(project, alice):
    line = services.add_node(project, type="prompt", title="Line", params={"text": "A lighthouse"})
    shot = services.add_node(project, type="video", title="Shot", params={"duration_seconds": 6})
    edge, _ = connect(project, line, "text", shot, "prompt", order=3)
    node(ProjectFactory(owner=alice), "prompt", "Elsewhere", text="x")

    graph = services.load_graph(project)

    assert graph.nodes == {
        str(line.id): GraphNode(id=str(line.id), type="prompt", params={"text": "A lighthouse"}, title="Line"),
        str(shot.id): GraphNode(id=str(shot.id), type="video", params={"duration_seconds": 6}, title="Shot"),
    }
    assert graph.edges == [
        GraphEdge(
            id=str(edge.id), source=str(line.id), source_port="text", target=str(shot.id), target_port="prompt", order=3
        )
    ]


# Deleting nodes


def test_deleting_a_node_takes_its_connections_and_names_them_outgoing_first(project):
    prompt, other = node(project, "prompt", "Line", text="x"), node(project, "prompt", "Other", text="y")
    shot, stitch = node(project, "video", "Shot"), node(project, "stitch", "Cut")
    into, _ = connect(project, prompt, "text", shot, "prompt")
    out, _ = connect(project, shot, "video", stitch, "videos")
    kept, _ = connect(project, other, "text", node(project, "video", "Second"), "prompt")

    removed = services.delete_node(shot)

    assert removed == [str(out.id), str(into.id)]
    assert list(Edge.objects.values_list("id", flat=True)) == [kept.id]
    assert not Node.objects.filter(pk=shot.pk).exists()


# Connecting


def test_a_missing_output_or_input_is_refused_naming_the_port(project):
    prompt, shot = node(project, "prompt", "Line", text="x"), node(project, "video", "Shot")

    no_output = refusal(connect, project, prompt, "video", shot, "prompt")
    no_input = refusal(connect, project, prompt, "text", shot, "sound")

    assert (no_output.status, no_output.code, no_output.message) == (
        422,
        "edge_refused",
        "Prompt has no output 'video'.",
    )
    assert no_output.details == {"source_port": "video", "target_port": "prompt"}
    assert no_input.message == "Video has no input 'sound'."
    assert no_input.details == {"source_port": "text", "target_port": "sound"}
    assert not Edge.objects.exists()


def test_a_loop_through_several_nodes_is_refused_and_a_parallel_path_is_not(project):
    a, b, c = (node(project, "extend", name) for name in "ABC")
    connect(project, a, "video", b, "video")
    connect(project, b, "video", c, "video")

    error = refusal(connect, project, c, "clip", a, "video")

    assert (error.status, error.code) == (422, "edge_refused")
    assert error.message == "That connection would make a loop."
    assert error.details == {"source": str(c.id)}
    assert edges_of(project) == [("A", "video", "B", "video", 0), ("B", "video", "C", "video", 0)]
    # A → C beside A → B → C is no loop.
    stitch = node(project, "stitch", "Cut")
    connect(project, a, "video", stitch, "videos")
    connect(project, c, "video", stitch, "videos")
    assert Edge.objects.filter(target=stitch).count() == 2


def test_a_node_into_itself_is_a_loop(project):
    a = node(project, "extend", "A")

    error = refusal(connect, project, a, "video", a, "video")

    assert (error.code, error.details) == ("edge_refused", {"source": str(a.id)})
    assert not Edge.objects.exists()


def test_the_same_connection_twice_is_a_409_even_into_a_multi_input(project):
    shot, stitch = node(project, "video", "Shot"), node(project, "stitch", "Cut")
    connect(project, shot, "video", stitch, "videos")

    error = refusal(connect, project, shot, "video", stitch, "videos")

    assert (error.status, error.code, error.message) == (409, "already_connected", "These ports are already connected.")
    assert edges_of(project) == [("Shot", "video", "Cut", "videos", 0)]
    # Another output of the same node into the same input is another connection.
    more = node(project, "extend", "More")
    connect(project, more, "video", stitch, "videos")
    connect(project, more, "clip", stitch, "videos")
    assert [row[:2] for row in edges_of(project)] == [("Shot", "video"), ("More", "video"), ("More", "clip")]


def test_an_occupied_input_is_refused_naming_its_edge_or_replaced_when_asked(project):
    one, two = node(project, "prompt", "One", text="a"), node(project, "prompt", "Two", text="b")
    shot = node(project, "video", "Shot")
    first, replaced = connect(project, one, "text", shot, "prompt")
    assert replaced == []

    error = refusal(connect, project, two, "text", shot, "prompt")

    assert (error.status, error.code) == (409, "port_occupied")
    assert error.message == "Prompt already has a connection: remove it first, or send replace=true."
    assert error.details == {"edge": str(first.id)}
    assert edges_of(project) == [("One", "text", "Shot", "prompt", 0)]

    second, replaced = connect(project, two, "text", shot, "prompt", replace=True)

    assert replaced == [str(first.id)]
    assert edges_of(project) == [("Two", "text", "Shot", "prompt", 0)]
    assert list(Edge.objects.values_list("id", flat=True)) == [second.id]


def test_replace_into_a_multi_input_adds_and_removes_nothing(project):
    a, b = node(project, "video", "A"), node(project, "video", "B")
    stitch = node(project, "stitch", "Cut")
    connect(project, a, "video", stitch, "videos")

    _, replaced = connect(project, b, "video", stitch, "videos", replace=True)

    assert replaced == []
    assert edges_of(project) == [("A", "video", "Cut", "videos", 0), ("B", "video", "Cut", "videos", 1)]


def test_a_multi_input_takes_exactly_its_maximum(project):
    shot = node(project, "video", "Shot")
    faces = [node(project, "image", f"Face {index}") for index in range(4)]
    for face in faces[:3]:
        connect(project, face, "character", shot, "characters")

    error = refusal(connect, project, faces[3], "character", shot, "characters")

    assert (error.status, error.code) == (422, "edge_refused")
    assert error.message == "Characters takes at most 3: remove one first."
    assert error.details == {"target_port": "characters"}
    assert [row[0] for row in edges_of(project)] == ["Face 0", "Face 1", "Face 2"]
    # A single-valued input of the same node does not count towards it.
    connect(project, faces[3], "image", shot, "first_frame")


def test_a_multi_input_numbers_its_edges_after_the_highest_and_per_port(project):
    clips = [node(project, "video", f"Clip {index}") for index in range(4)]
    cut, other = node(project, "stitch", "Cut"), node(project, "stitch", "Other")

    first, _ = connect(project, clips[0], "video", cut, "videos")
    connect(project, clips[1], "video", cut, "videos", order=5)
    connect(project, clips[2], "video", cut, "videos")
    connect(project, clips[3], "video", other, "videos")  # another node's input starts at 0

    assert edges_of(project) == [
        ("Clip 0", "video", "Cut", "videos", 0),
        ("Clip 1", "video", "Cut", "videos", 5),
        ("Clip 2", "video", "Cut", "videos", 6),
        ("Clip 3", "video", "Other", "videos", 0),
    ]
    Edge.objects.filter(target=cut).exclude(pk=first.pk).delete()
    connect(project, clips[1], "video", cut, "videos")  # after a highest of 0 comes 1
    assert edges_of(project)[:2] == [("Clip 0", "video", "Cut", "videos", 0), ("Clip 1", "video", "Cut", "videos", 1)]


# Reordering a multi-valued input


def clips_into(project, count: int):
    cut = node(project, "stitch", "Cut")
    edges = [connect(project, node(project, "video", f"Clip {i}"), "video", cut, "videos")[0] for i in range(count)]
    return cut, edges


def order_of(cut) -> list[tuple[str, int]]:
    return list(Edge.objects.filter(target=cut).order_by("order").values_list("source__title", "order"))


def test_reordering_numbers_the_edges_in_the_given_order(project):
    cut, (a, b, c) = clips_into(project, 3)

    result = services.reorder_inputs(cut, "videos", [str(c.id), a.id, str(b.id)])

    assert [edge.id for edge in result] == [c.id, a.id, b.id]
    assert [edge.order for edge in result] == [0, 1, 2]
    assert order_of(cut) == [("Clip 2", 0), ("Clip 0", 1), ("Clip 1", 2)]


def test_reordering_an_input_the_node_does_not_have_is_refused(project):
    cut, (a,) = clips_into(project, 1)

    error = refusal(services.reorder_inputs, cut, "clips", [str(a.id)])

    assert (error.status, error.code, error.message) == (422, "invalid", "Stitch has no input 'clips'.")
    assert error.details == {"fields": [{"field": "port", "message": "no such input"}]}


@pytest.mark.parametrize("listed", ["one twice", "one missing", "one extra"])
def test_reordering_must_list_each_edge_exactly_once_and_changes_nothing_otherwise(project, listed):
    cut, (a, b) = clips_into(project, 2)
    stranger, _ = connect(project, node(project, "video", "Elsewhere"), "video", node(project, "stitch"), "videos")
    ids = {"one twice": [b.id, b.id], "one missing": [b.id], "one extra": [b.id, a.id, stranger.id]}[listed]

    error = refusal(services.reorder_inputs, cut, "videos", [str(i) for i in ids])

    assert (error.status, error.code) == (422, "invalid")
    assert error.message == "List every connection into 'videos' exactly once (2 now), in the new order."
    assert error.details == {"fields": [{"field": "edges", "message": "must name exactly the edges into this port"}]}
    assert order_of(cut) == [("Clip 0", 0), ("Clip 1", 1)]


# Takes


@pytest.fixture
def prompt_with_two_takes(alice, project, redis):
    """A prompt run twice through the API with different words: two takes, the second selected."""
    api = Api(alice)
    line = api.post(f"/projects/{project.id}/nodes", {"type": "prompt", "params": {"text": "first"}}).json()
    for version, text in ((None, "first"), (1, "second")):
        if version:
            api.patch(f"/projects/{project.id}/nodes/{line['id']}", {"version": version, "params": {"text": text}})
        started = api.post(f"/projects/{project.id}/runs", {"targets": [line["id"]]}).json()
        for job in Job.objects.filter(run_id=started["run"]["id"]):
            running.run_job(str(job.id))
        assert Run.objects.get(pk=started["run"]["id"]).status == Run.Status.SUCCEEDED
    return Node.objects.get(pk=line["id"])


def test_selecting_an_earlier_take_brings_back_its_params_and_output(prompt_with_two_takes):
    line = prompt_with_two_takes
    first, second = line.takes.get(number=1), line.takes.get(number=2)
    Node.objects.filter(pk=line.pk).update(status=Node.Status.FAILED, error_message="Provider down")
    assert line.selected_take_id == second.id and line.params == {"text": "second"}

    selected = services.select_take(line, first)

    stored = Node.objects.get(pk=line.pk)
    assert stored.selected_take_id == first.id
    assert (stored.params, stored.output, stored.cache_key) == (first.params, first.outputs, first.cache_key)
    assert stored.output != second.outputs and stored.params["text"] == "first"
    assert (stored.status, stored.error_message, stored.version) == (Node.Status.SUCCEEDED, "", line.version + 1)
    assert (selected.version, selected.selected_take_id) == (stored.version, first.id)


def test_a_take_of_another_node_is_not_selected(prompt_with_two_takes, project):
    other = node(project, "prompt", "Other", text="x")
    take = prompt_with_two_takes.takes.get(number=1)

    with pytest.raises(ValueError, match=r"^That take belongs to another node\.$"):
        services.select_take(other, take)

    stored = Node.objects.get(pk=other.pk)
    assert (stored.selected_take_id, stored.params, stored.version) == (None, {"text": "x"}, 1)


# Graph documents


def build_film(project) -> dict[str, Node]:
    nodes = {
        "line": services.add_node(project, type="prompt", title="Line", x=1, y=2, params={"text": "A lighthouse"}),
        "shot": services.add_node(project, type="video", title="Shot", x=300, y=2, params={"duration_seconds": 6}),
        "more": services.add_node(project, type="video", title="More"),
        "cut": services.add_node(project, type="stitch", title="Cut", x=600, y=0),
    }
    connect(project, nodes["line"], "text", nodes["shot"], "prompt")
    connect(project, nodes["more"], "video", nodes["cut"], "videos")
    connect(project, nodes["shot"], "video", nodes["cut"], "videos", order=0)
    connect(project, nodes["line"], "text", nodes["more"], "prompt")
    return nodes


def test_an_export_names_nodes_by_creation_and_lists_edges_by_input_and_order(project):
    nodes = build_film(project)
    by_id = {str(n.id): n for n in nodes.values()}
    expected_edges = sorted(
        Edge.objects.filter(project=project), key=lambda e: (str(e.target_id), e.target_port, e.order, str(e.id))
    )
    key = {"Line": "n1", "Shot": "n2", "More": "n3", "Cut": "n4"}

    document = services.export_graph(project)

    assert (document["format"], document["version"]) == ("reelgraph.graph", 1)
    assert document["nodes"] == [
        {"key": "n1", "type": "prompt", "title": "Line", "x": 1, "y": 2, "params": {"text": "A lighthouse"}},
        {"key": "n2", "type": "video", "title": "Shot", "x": 300, "y": 2, "params": {"duration_seconds": 6}},
        {"key": "n3", "type": "video", "title": "More", "x": 0, "y": 0, "params": {}},
        {"key": "n4", "type": "stitch", "title": "Cut", "x": 600, "y": 0, "params": {}},
    ]
    assert document["edges"] == [
        {
            "source": key[by_id[str(e.source_id)].title],
            "source_port": e.source_port,
            "target": key[by_id[str(e.target_id)].title],
            "target_port": e.target_port,
            "order": e.order,
        }
        for e in expected_edges
    ]
    cut_edges = [(e["source"], e["order"]) for e in document["edges"] if e["target"] == "n4"]
    assert cut_edges == [("n2", 0), ("n3", 0)] or cut_edges == [("n3", 0), ("n2", 0)]  # equal orders: by id


def test_an_export_lists_edges_by_target_then_port_then_order_then_id(project):
    cut, shot = node(project, "stitch", "Cut"), node(project, "video", "Shot")
    for index, order in enumerate([3, 0, 0, 2, 1, 0]):  # ties at 0 fall back to the edge's id
        connect(project, node(project, "video", f"Clip {index}"), "video", cut, "videos", order=order)
    connect(project, node(project, "prompt", "Line", text="x"), "text", shot, "prompt")
    for index in range(3):
        connect(project, node(project, "image", f"Face {index}"), "character", shot, "characters", order=2 - index)
    connect(project, node(project, "image", "Start"), "image", shot, "first_frame")
    connect(project, node(project, "image", "End"), "image", shot, "last_frame")
    keys = {n.id: f"n{index + 1}" for index, n in enumerate(Node.objects.order_by("created_at"))}
    rows = sorted(Edge.objects.all(), key=lambda e: (e.target_id, e.target_port, e.order, e.id))

    exported = services.export_graph(project)["edges"]

    assert [(e["source"], e["target"], e["target_port"], e["order"]) for e in exported] == [
        (keys[e.source_id], keys[e.target_id], e.target_port, e.order) for e in rows
    ]


def test_an_import_replaces_the_graph_or_adds_to_it(project, alice):
    build_film(project)
    document = services.export_graph(project)
    other = ProjectFactory(owner=alice)
    kept = node(other, "prompt", "Already there", text="x")

    added = services.import_graph(other, document, replace=False)

    assert (added["nodes"], added["edges"], added["warnings"]) == (4, 4, [])
    assert set(added["ids"]) == {"n1", "n2", "n3", "n4"}
    assert Node.objects.get(pk=added["ids"]["n4"]).title == "Cut"
    assert Node.objects.filter(project=other).count() == 5 and Node.objects.filter(pk=kept.pk).exists()
    shifted = [
        edge | {"source": f"n{int(edge['source'][1:]) + 1}", "target": f"n{int(edge['target'][1:]) + 1}"}
        for edge in document["edges"]
    ]  # "Already there" is n1 now
    key = lambda edge: sorted(edge.items())  # noqa: E731
    assert sorted(services.export_graph(other)["edges"], key=key) == sorted(shifted, key=key)

    replaced = services.import_graph(other, document)

    assert replaced["nodes"] == 4 and not Node.objects.filter(pk=kept.pk).exists()
    assert services.export_graph(other)["nodes"] == document["nodes"]
    assert Node.objects.filter(project=project).count() == 4  # the source project is untouched


def test_an_import_fills_what_a_document_leaves_out_and_numbers_edges_without_an_order(project):
    document = {
        "nodes": [
            {"key": "a", "type": "video"},
            {"key": "b", "type": "video"},
            {"key": "cut", "type": "stitch", "title": "Cut", "x": 5, "y": 6, "params": None},
        ],
        "edges": [
            {"source": "b", "source_port": "video", "target": "cut", "target_port": "videos"},
            {"source": "a", "source_port": "video", "target": "cut", "target_port": "videos"},
        ],
    }

    result = services.import_graph(project, document)

    assert (result["nodes"], result["edges"]) == (3, 2)
    a, b = (Node.objects.get(pk=result["ids"][key]) for key in "ab")
    assert (a.title, a.x, a.y, a.params) == ("", 0, 0, {})
    cut = Node.objects.get(pk=result["ids"]["cut"])
    assert (cut.title, cut.x, cut.y) == ("Cut", 5, 6)
    assert list(Edge.objects.filter(target=cut).order_by("order").values_list("source_id", "order")) == [
        (b.id, 0),
        (a.id, 1),
    ]


def test_a_file_of_another_project_is_dropped_and_said_by_title_or_key(project, alice):
    theirs = upload(ProjectFactory(owner=alice))
    ours = upload(project)
    document = {
        "nodes": [
            {"key": "n1", "type": "image", "title": "Photo", "params": {"asset_id": str(theirs.id), "face": 2}},
            {"key": "n2", "type": "image", "params": {"asset_id": str(theirs.id)}},
            {"key": "n3", "type": "image", "title": "Mine", "params": {"asset_id": str(ours.id)}},
        ],
        "edges": [],
    }

    result = services.import_graph(project, document)

    assert result["warnings"] == [
        "Photo: its file is not in this project; upload it again.",
        "n2: its file is not in this project; upload it again.",
    ]
    params = {key: Node.objects.get(pk=node_id).params for key, node_id in result["ids"].items()}
    assert params == {"n1": {"face": 2}, "n2": {}, "n3": {"asset_id": str(ours.id)}}


def test_an_edge_to_a_key_the_document_lacks_refuses_the_whole_import(project):
    before = build_film(project)
    document = {
        "nodes": [{"key": "a", "type": "prompt", "params": {"text": "x"}}, {"key": "b", "type": "video"}],
        "edges": [
            {"source": "a", "source_port": "text", "target": "b", "target_port": "prompt"},
            {"source": "a", "source_port": "text", "target": "n9", "target_port": "prompt"},
        ],
    }

    error = refusal(services.import_graph, project, document)

    assert (error.status, error.code) == (422, "invalid")
    assert error.message == "An edge refers to a node the document does not have (a → n9)."
    assert set(Node.objects.filter(project=project).values_list("id", flat=True)) == {n.id for n in before.values()}
    assert Edge.objects.filter(project=project).count() == 4
    missing_source = document | {"edges": [{"source": "zz", "source_port": "text", "target": "b", "target_port": "x"}]}
    assert refusal(services.import_graph, project, missing_source).message == (
        "An edge refers to a node the document does not have (zz → b)."
    )
