"""The clips of a Stitch join in the order they were connected, and in the order the user then sets."""

import importlib

import av
import numpy as np
import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.apps import apps

from assets import media
from nodes import services
from nodes.models import Edge
from projects.models import Membership
from tests.api import Api, error_of
from tests.engine_helpers import asset_path
from tests.graphs import add, wait_for_run
from tests.websockets import headers_for, next_event, project_socket

pytestmark = pytest.mark.django_db


def connect(api, project, source, target, source_port="video", target_port="videos"):
    response = api.post(
        f"/projects/{project.id}/edges",
        {"source": str(source), "source_port": source_port, "target": str(target), "target_port": target_port},
    )
    assert response.status_code == 201, response.content
    return response.json()


def reorder(api, project, node, edge_ids, port="videos"):
    return api._send("put", f"/projects/{project.id}/nodes/{node}/inputs/{port}/order", {"edges": edge_ids})


def test_edges_into_a_multi_port_are_numbered_in_the_order_they_were_connected(project):
    stitch = add(project, "stitch", "Cut")
    clips = [add(project, "video", f"Shot {n}", duration_seconds=4) for n in range(3)]

    for clip in clips:
        services.connect(project, source=clip, source_port="video", target=stitch, target_port="videos")

    orders = Edge.objects.filter(target=stitch).order_by("order").values_list("source__title", "order")
    assert list(orders) == [("Shot 0", 0), ("Shot 1", 1), ("Shot 2", 2)]


def test_the_migration_numbers_tied_edges_by_creation_time_and_leaves_others_alone(project):
    stitch, other = add(project, "stitch", "Tied"), add(project, "stitch", "Ordered")
    clips = [add(project, "video", f"Shot {n}") for n in range(3)]
    for clip in clips:  # as the old bug left them: every one at 0
        services.connect(project, source=clip, source_port="video", target=stitch, target_port="videos", order=0)
    for clip, order in zip(clips, (5, 2, 9), strict=True):
        services.connect(project, source=clip, source_port="video", target=other, target_port="videos", order=order)

    importlib.import_module("nodes.migrations.0002_renumber_edge_order").renumber_ties(apps, None)

    tied = Edge.objects.filter(target=stitch).order_by("order").values_list("source__title", "order")
    assert list(tied) == [("Shot 0", 0), ("Shot 1", 1), ("Shot 2", 2)]
    kept = Edge.objects.filter(target=other).order_by("order").values_list("source__title", "order")
    assert list(kept) == [("Shot 1", 2), ("Shot 0", 5), ("Shot 2", 9)]


def test_reordering_must_name_exactly_the_edges_into_the_port(alice, project):
    api = Api(alice)
    stitch = add(project, "stitch", "Cut")
    edges = [connect(api, project, add(project, "video").id, stitch.id)["id"] for _ in range(3)]

    for wrong in (edges[:2], [*edges, edges[0]], [*edges[:2], str(stitch.id)]):
        response = reorder(api, project, stitch.id, wrong)
        assert response.status_code == 422
        assert [field["field"] for field in error_of(response)["details"]["fields"]] == ["edges"]
    unknown_port = reorder(api, project, stitch.id, [], port="nope")
    assert unknown_port.status_code == 422 and error_of(unknown_port)["details"]["fields"][0]["field"] == "port"
    assert list(Edge.objects.filter(target=stitch).order_by("order").values_list("id", flat=True)) == [
        Edge.objects.get(pk=edge).id for edge in edges
    ]  # nothing moved

    answer = reorder(api, project, stitch.id, [edges[2], edges[0], edges[1]])
    assert answer.status_code == 200
    assert [(edge["id"], edge["order"]) for edge in answer.json()] == [(edges[2], 0), (edges[0], 1), (edges[1], 2)]


def test_viewers_cannot_reorder(alice, bob, project, add_member):
    stitch = add(project, "stitch", "Cut")
    edges = [connect(Api(alice), project, add(project, "video").id, stitch.id)["id"] for _ in range(2)]
    add_member(bob, Membership.Role.VIEWER)

    refused = reorder(Api(bob), project, stitch.id, edges[::-1])

    assert refused.status_code == 403
    assert list(Edge.objects.filter(target=stitch).order_by("order").values_list("id", flat=True)) == [
        Edge.objects.get(pk=edge).id for edge in edges
    ]


@pytest.mark.django_db(transaction=True)
def test_a_reorder_reaches_every_open_canvas(alice, project, redis):
    api = Api(alice)
    stitch = add(project, "stitch", "Cut")
    edges = [connect(api, project, add(project, "video").id, stitch.id)["id"] for _ in range(2)]
    headers = headers_for(alice)

    async def scenario():
        socket = project_socket(project.id, headers)
        assert (await socket.connect())[0]
        await socket.receive_json_from()
        await sync_to_async(reorder)(api, project, stitch.id, edges[::-1])
        event = await next_event(socket)
        await socket.disconnect()
        return event

    event = async_to_sync(scenario)()
    assert (event["type"], event["node_id"], event["port"], event["by"]) == (
        "edges.reordered",
        str(stitch.id),
        "videos",
        "alice",
    )
    assert [(edge["id"], edge["order"]) for edge in event["edges"]] == [(edges[1], 0), (edges[0], 1)]


def mean_colour(path, seconds: float) -> np.ndarray:
    """The average colour of the frame shown at `seconds` (decoded with PyAV)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        container.seek(int(seconds / stream.time_base), stream=stream)
        for frame in container.decode(stream):
            if frame.time is not None and frame.time >= seconds - 1e-3:
                return frame.to_ndarray(format="rgb24").reshape(-1, 3).mean(axis=0)
    raise AssertionError(f"no frame at {seconds} s in {path}")


def segment_sources(film, clips: dict[str, str], order: list[str]) -> list[str]:
    """For each segment of the film (clip lengths known), which source clip it looks like, one second in."""
    found, start = [], 0.0
    for name in order:
        sample = mean_colour(film, start + 1.0)
        distance = {candidate: np.abs(mean_colour(path, 1.0) - sample).sum() for candidate, path in clips.items()}
        found.append(min(distance, key=distance.get))
        start += media.probe(clips[name]).duration
    return found


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_stitch_plays_its_clips_in_the_connected_order_then_in_the_new_one(alice, project, workers):
    api = Api(alice)
    node = lambda body: api.post(f"/projects/{project.id}/nodes", body).json()["id"]  # noqa: E731
    # Three clips of different lengths and colours (the offline renderer colours a clip by its prompt).
    shots = {}
    for name, seconds, text in (("long", 8, "Red dawn"), ("short", 4, "Green forest"), ("middle", 6, "Blue sea")):
        prompt = node({"type": "prompt", "title": f"{name} prompt", "params": {"text": text}})
        shots[name] = node({"type": "video", "title": name, "params": {"duration_seconds": seconds}})
        connect(api, project, prompt, shots[name], source_port="text", target_port="prompt")
    stitch = node({"type": "stitch", "title": "Cut"})
    edges = {name: connect(api, project, shots[name], stitch)["id"] for name in ("middle", "long", "short")}
    workers.start(2)

    def stitched_film():
        started = api.post(f"/projects/{project.id}/runs", {"targets": [stitch]}).json()
        run = wait_for_run(project.runs.get(pk=started["run"]["id"]))
        assert run.status == "succeeded", workers.logs()
        outputs = {name: api.get(f"/projects/{project.id}/nodes/{shots[name]}").json()["output"] for name in shots}
        film = api.get(f"/projects/{project.id}/nodes/{stitch}").json()["output"]["video"]
        return asset_path(film), {name: asset_path(output["video"]) for name, output in outputs.items()}

    film, clips = stitched_film()
    assert segment_sources(film, clips, ["middle", "long", "short"]) == ["middle", "long", "short"]

    assert reorder(api, project, stitch, [edges["short"], edges["middle"], edges["long"]]).status_code == 200
    film, clips = stitched_film()
    assert segment_sources(film, clips, ["short", "middle", "long"]) == ["short", "middle", "long"]
