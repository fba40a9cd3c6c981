import pytest
from asgiref.sync import async_to_sync, sync_to_async

from nodes.models import Edge, Node
from projects.models import Membership
from tests.api import Api, error_of
from tests.factories import ProjectFactory
from tests.graphs import add, upload, wire
from tests.unchanged import changes_since, snapshot
from tests.websockets import headers_for, next_event, project_socket

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(alice):
    return Api(alice)


def test_node_types_describe_ports_and_param_schemas(api):
    types = {t["name"]: t for t in api.get("/node-types").json()}

    assert set(types) == {
        "image", "audio", "prompt", "storyboard", "generate_image", "music", "video", "extend", "stitch", "clip"
    }  # fmt: skip
    video = types["video"]
    assert [(p["name"], p["kind"], p["required"]) for p in video["inputs"]] == [
        ("prompt", "text", True),
        ("first_frame", "image", False),
        ("last_frame", "image", False),
        ("characters", "character", False),
    ]
    assert video["inputs"][3]["multi"] and video["inputs"][3]["max_items"] == 3
    schema = video["params_schema"]["properties"]
    assert schema["duration_seconds"]["enum"] == [4, 6, 8]
    assert schema["model"]["enum"] == ["veo-3.1-generate-preview", "veo-3.1-fast-generate-preview"]


def test_nodes_are_created_read_updated_and_deleted(api, project):
    created = api.post(f"/projects/{project.id}/nodes", {"type": "prompt", "title": "Line", "x": 10, "y": 20,
                                                         "params": {"text": "A lighthouse"}})  # fmt: skip
    assert created.status_code == 201
    node = created.json()
    assert (node["type"], node["version"], node["status"], node["params"]) == (
        "prompt",
        1,
        "idle",
        {"text": "A lighthouse"},
    )

    patched = api.patch(
        f"/projects/{project.id}/nodes/{node['id']}", {"version": 1, "x": 50, "params": {"enhance": True}}
    )
    assert patched.status_code == 200
    assert (patched.json()["version"], patched.json()["x"]) == (2, 50)
    assert patched.json()["params"] == {"text": "A lighthouse", "enhance": True}
    assert api.get(f"/projects/{project.id}/nodes/{node['id']}").json()["version"] == 2

    assert api.delete(f"/projects/{project.id}/nodes/{node['id']}").status_code == 204
    assert not Node.objects.exists()


def test_bodies_take_json_types_as_the_document_states_them(api, project):
    node = add(project, "prompt", "Line", text="first")
    url = f"/projects/{project.id}/nodes/{node.id}"

    before = snapshot()
    refused = [api.patch(url, body) for body in ({"version": 1, "y": False}, {"version": "1"}, {"version": True})]
    assert changes_since(before) == {}
    accepted = api.patch(url, {"version": 1.0, "x": 7})  # one kind of JSON number: 1.0 is the integer 1

    assert [(r.status_code, error_of(r)["details"]["fields"][0]["field"]) for r in refused] == [
        (422, "y"),
        (422, "version"),
        (422, "version"),
    ]
    assert accepted.status_code == 200 and accepted.json()["version"] == 2
    node.refresh_from_db()
    assert (node.version, node.x, node.y) == (2, 7.0, 0.0)  # the refusals changed nothing


def test_a_stale_version_is_a_409_with_the_current_node(api, project):
    node = add(project, "prompt", "Line", text="first")
    api.patch(f"/projects/{project.id}/nodes/{node.id}", {"version": 1, "params": {"text": "second"}})
    before = snapshot()

    stale = api.patch(f"/projects/{project.id}/nodes/{node.id}", {"version": 1, "params": {"text": "third"}})

    assert stale.status_code == 409
    error = error_of(stale)
    assert error["code"] == "stale_version"
    assert error["details"]["node"]["version"] == 2 and error["details"]["node"]["params"] == {"text": "second"}
    node.refresh_from_db()
    assert node.params == {"text": "second"}  # never silently overwritten
    assert changes_since(before) == {}  # nor its version, title or position


def test_bad_params_are_refused_with_the_field_named(api, project):
    before = snapshot()
    response = api.post(
        f"/projects/{project.id}/nodes", {"type": "video", "params": {"duration_seconds": 5, "colour": 1}}
    )

    assert response.status_code == 422
    fields = {field["field"] for field in error_of(response)["details"]["fields"]}
    assert fields == {"params.duration_seconds", "params.colour"}
    unknown = api.post(f"/projects/{project.id}/nodes", {"type": "sora"})
    assert unknown.status_code == 422  # the document lists the types: `type` is an enum
    assert error_of(unknown)["details"]["fields"][0]["field"] == "type"
    choices = (
        "'image', 'audio', 'prompt', 'storyboard', 'generate_image', 'music', 'video', 'extend', 'stitch' or 'clip'"
    )
    assert choices in error_of(unknown)["message"]
    assert changes_since(before) == {}  # no node, half-made or otherwise


def test_an_edge_to_a_node_not_in_the_project_is_a_404_naming_the_field(api, project, bob):
    prompt = add(project, "prompt", "Line", text="x")
    theirs = add(ProjectFactory(owner=bob), "video", "Their shot")
    before = snapshot()

    response = api.post(
        f"/projects/{project.id}/edges",
        {"source": str(prompt.id), "source_port": "text", "target": str(theirs.id), "target_port": "prompt"},
    )

    assert response.status_code == 404  # another user's node is not confirmed to exist
    assert error_of(response)["details"] == {"field": "target"}
    assert not Edge.objects.exists()
    assert changes_since(before) == {}  # bob's node untouched too


def test_incompatible_ports_are_refused_naming_both(api, project):
    video = add(project, "video", "Shot")
    prompt = add(project, "prompt", "Line", text="x")
    before = snapshot()

    response = api.post(
        f"/projects/{project.id}/edges",
        {"source": str(video.id), "source_port": "video", "target": str(prompt.id), "target_port": "image"},
    )

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "edge_refused"
    assert (
        error["message"]
        == "Cannot connect Video's Video (video) to Prompt's Reference image (image): Reference image takes image."
    )
    assert error["details"] == {
        "source_port": "video",
        "source_kind": "video",
        "target_port": "image",
        "target_kind": "image",
    }
    assert not Edge.objects.exists()
    assert changes_since(before) == {}


def test_edges_connect_replace_and_refuse_loops(api, project):
    first, second = add(project, "prompt", "One", text="a"), add(project, "prompt", "Two", text="b")
    video, extend = add(project, "video", "Shot"), add(project, "extend", "More")
    edge = lambda s, sp, t, tp, **more: api.post(  # noqa: E731
        f"/projects/{project.id}/edges",
        {"source": str(s.id), "source_port": sp, "target": str(t.id), "target_port": tp} | more,
    )

    assert edge(first, "text", video, "prompt").status_code == 201
    before = snapshot()
    occupied = edge(second, "text", video, "prompt")
    assert occupied.status_code == 409 and error_of(occupied)["code"] == "port_occupied"
    assert changes_since(before) == {}  # the first prompt stays connected
    replaced = edge(second, "text", video, "prompt", replace=True)
    assert replaced.status_code == 201
    assert list(Edge.objects.values_list("source__title", flat=True)) == ["Two"]
    assert edge(video, "video", extend, "video").status_code == 201
    before = snapshot()
    assert edge(video, "video", extend, "video").status_code == 409  # the same connection twice
    assert error_of(edge(extend, "video", extend, "video"))["message"] == "That connection would make a loop."
    assert changes_since(before) == {}
    assert set(Edge.objects.values_list("source__title", "target__title")) == {("Two", "Shot"), ("Shot", "More")}


def test_a_connection_that_would_make_a_loop_is_refused(api, project):
    a, b = add(project, "extend", "A"), add(project, "extend", "B")
    wire(a, "video", b, "video")
    before = snapshot()

    response = api.post(
        f"/projects/{project.id}/edges",
        {"source": str(b.id), "source_port": "video", "target": str(a.id), "target_port": "video"},
    )

    assert response.status_code == 422 and error_of(response)["message"] == "That connection would make a loop."
    assert changes_since(before) == {}


def test_the_graph_lists_nodes_and_edges_and_an_edge_is_deleted(api, project):
    prompt, video = add(project, "prompt", "Line", text="x"), add(project, "video", "Shot")
    edge = wire(prompt, "text", video, "prompt")

    graph = api.get(f"/projects/{project.id}/graph").json()
    assert {n["title"] for n in graph["nodes"]} == {"Line", "Shot"}
    assert graph["edges"][0]["id"] == str(edge.id)

    assert api.delete(f"/projects/{project.id}/edges/{edge.id}").status_code == 204
    assert api.get(f"/projects/{project.id}/graph").json()["edges"] == []


def test_a_graph_document_round_trips_into_another_project(api, project, alice):
    photo = upload(project)
    image = add(project, "image", "Photo", asset_id=str(photo.id))
    prompt, video = add(project, "prompt", "Line", text="x"), add(project, "video", "Shot", duration_seconds=6)
    wire(prompt, "text", video, "prompt")
    wire(image, "image", video, "first_frame")
    document = api.get(f"/projects/{project.id}/graph/export").json()
    assert document["format"] == "reelgraph.graph" and document["version"] == 1

    other = ProjectFactory(owner=alice)
    imported = api.post(f"/projects/{other.id}/graph/import", document)

    assert imported.status_code == 200
    result = imported.json()
    assert (result["nodes"], result["edges"]) == (3, 2)
    assert result["warnings"] == ["Photo: its file is not in this project; upload it again."]
    again = api.get(f"/projects/{other.id}/graph/export").json()
    expected = [n | {"params": {k: v for k, v in n["params"].items() if k != "asset_id"}} for n in document["nodes"]]
    assert again["nodes"] == expected and again["edges"] == document["edges"]
    # Into the same project, the file stays attached.
    same = api.post(f"/projects/{project.id}/graph/import", document).json()
    assert same["warnings"] == [] and api.get(f"/projects/{project.id}/graph/export").json() == document


def test_viewers_cannot_edit_the_graph_and_outsiders_cannot_see_it(project, bob, add_member):
    node = add(project, "prompt", "Line", text="x")
    video = add(project, "video", "Shot")
    edge = wire(node, "text", video, "prompt")
    outsider = Api(bob)
    assert outsider.get(f"/projects/{project.id}/graph").status_code == 404
    assert outsider.get(f"/projects/{project.id}/nodes/{node.id}").status_code == 404

    add_member(bob, Membership.Role.VIEWER)
    viewer = Api(bob)
    assert viewer.get(f"/projects/{project.id}/graph").status_code == 200
    before = snapshot()
    for response in (
        viewer.post(f"/projects/{project.id}/nodes", {"type": "prompt"}),
        viewer.patch(f"/projects/{project.id}/nodes/{node.id}", {"version": 1, "title": "mine"}),
        viewer.delete(f"/projects/{project.id}/nodes/{node.id}"),
        viewer.post(f"/projects/{project.id}/graph/import", {"nodes": [], "edges": []}),
        viewer.delete(f"/projects/{project.id}/edges/{edge.id}"),
    ):
        assert response.status_code == 403
        assert error_of(response)["code"] == "forbidden"
    node.refresh_from_db()
    assert node.title == "Line"
    assert changes_since(before) == {}  # the import did not empty the graph; the edge is still there


def test_a_node_of_another_project_is_a_404_even_to_a_member_of_this_one(api, project, bob):
    elsewhere = add(ProjectFactory(owner=bob), "prompt", "Theirs", text="x")
    video = add(project, "video")
    before = snapshot()

    assert api.get(f"/projects/{project.id}/nodes/{elsewhere.id}").status_code == 404
    response = api.post(
        f"/projects/{project.id}/edges",
        {
            "source": str(elsewhere.id),
            "source_port": "text",
            "target": str(video.id),
            "target_port": "prompt",
        },
    )
    assert response.status_code == 404
    assert error_of(response)["details"] == {"field": "source"}
    assert changes_since(before) == {}


@pytest.mark.django_db(transaction=True)
def test_an_edit_reaches_every_other_open_canvas(project, alice, bob, add_member, redis):
    add_member(bob, Membership.Role.EDITOR)
    headers = headers_for(alice)
    editor = Api(bob)

    async def scenario():
        socket = project_socket(project.id, headers)
        assert (await socket.connect())[0]
        await socket.receive_json_from()
        await sync_to_async(editor.post)(f"/projects/{project.id}/nodes", {"type": "prompt", "title": "From Bob"})
        event = await next_event(socket)
        await socket.disconnect()
        return event

    event = async_to_sync(scenario)()
    assert (event["type"], event["node"]["title"], event["by"]) == ("node.created", "From Bob", "bob")


@pytest.mark.django_db(transaction=True)
def test_a_refused_edit_reaches_no_canvas(project, alice, bob, add_member, redis):
    node = add(project, "prompt", "Line", text="x")
    add_member(bob, Membership.Role.VIEWER)
    viewer, owner, headers = Api(bob), Api(alice), headers_for(alice)

    async def scenario():
        socket = project_socket(project.id, headers)
        assert (await socket.connect())[0]
        await socket.receive_json_from()
        for refused in (
            lambda: viewer.post(f"/projects/{project.id}/nodes", {"type": "prompt", "title": "From Bob"}),
            lambda: viewer.patch(f"/projects/{project.id}/nodes/{node.id}", {"version": 1, "title": "Bob's"}),
            lambda: viewer.delete(f"/projects/{project.id}/nodes/{node.id}"),
        ):
            assert (await sync_to_async(refused)()).status_code == 403
        # Events arrive in the order they were sent: the first one after the refusals is this edit.
        await sync_to_async(owner.post)(f"/projects/{project.id}/nodes", {"type": "prompt", "title": "From Alice"})
        event = await next_event(socket)
        await socket.disconnect()
        return event

    event = async_to_sync(scenario)()
    assert (event["type"], event["node"]["title"], event["by"]) == ("node.created", "From Alice", "alice")
