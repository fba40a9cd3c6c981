"""Two editors writing the same graph at the same moment, from two threads with their own database
connections: every answer is a clean 2xx, 404 or 409, and the graph keeps its rules afterwards
(one edge per single-valued port, no loop, unique orders in multi-valued ports)."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from nodes.graph import Graph
from nodes.models import Edge, Node
from nodes.registry import get_node_type
from nodes.services import load_graph
from projects.models import Membership
from tests.api import Api
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
ROUNDS = 12
CLEAN = {200, 201, 204, 404, 409}


@pytest.fixture
def editors(project, alice, settings, redis):
    settings.RUN_RATE_LIMIT = None
    erin = UserFactory(username="erin")
    Membership.objects.create(project=project, user=erin, role=Membership.Role.EDITOR)
    return Api(alice), Api(erin)


def at_once(*calls: tuple) -> list:
    """Each call (function, *arguments) in its own thread, all released together; each thread
    closes its own database connection."""
    start = threading.Barrier(len(calls))

    def call(function, *arguments):
        try:
            start.wait()
            return function(*arguments)
        finally:
            connection.close()

    with ThreadPoolExecutor(len(calls)) as pool:
        return [future.result() for future in [pool.submit(call, *c) for c in calls]]


def node(api: Api, project, type: str, **params) -> str:
    response = api.post(f"/projects/{project.id}/nodes", {"type": type, "title": type, "params": params})
    assert response.status_code == 201, response.content
    return response.json()["id"]


def edge(source: str, source_port: str, target: str, target_port: str, **extra) -> dict:
    return {"source": source, "source_port": source_port, "target": target, "target_port": target_port, **extra}


def assert_graph_valid(project) -> None:
    graph: Graph = load_graph(project)
    types = {node_id: node.type for node_id, node in graph.nodes.items()}
    ports = Counter((edge.target, edge.target_port) for edge in graph.edges)
    for (target, port), count in ports.items():
        if not get_node_type(types[target]).input(port).multi:
            assert count == 1, f"{count} edges into the single port {port} of {target}"
    orders = Counter((edge.target, edge.target_port, edge.order) for edge in graph.edges)
    assert max(orders.values(), default=1) == 1, orders
    graph.topological_order(graph.nodes)  # raises graphlib.CycleError on a loop


def answers(responses, also: frozenset = frozenset()) -> list[int]:
    statuses = [response.status_code for response in responses]
    assert set(statuses) <= CLEAN | also, [(r.status_code, r.content[:200]) for r in responses]
    return statuses


@pytest.mark.parametrize("replace", [False, True])
def test_two_edges_into_one_single_port_at_once_leave_one(editors, project, replace):
    url = f"/projects/{project.id}/edges"
    for _ in range(ROUNDS):
        prompts = [node(editors[0], project, "prompt", text="a"), node(editors[0], project, "prompt", text="b")]
        video = node(editors[0], project, "video")
        calls = [
            (api.post, url, edge(p, "text", video, "prompt", replace=replace))
            for p, api in zip(prompts, editors, strict=True)
        ]
        assert 201 in answers(at_once(*calls))
        assert Edge.objects.filter(target_id=video, target_port="prompt").count() == 1
    assert_graph_valid(project)


def test_a_to_b_and_b_to_a_at_once_make_no_loop(editors, project):
    url = f"/projects/{project.id}/edges"
    for _ in range(ROUNDS):
        a, b = node(editors[0], project, "extend"), node(editors[0], project, "extend")
        statuses = answers(
            at_once(
                (editors[0].post, url, edge(a, "video", b, "video")),
                (editors[1].post, url, edge(b, "video", a, "video")),
            ),
            also=frozenset({422}),  # the second one is refused: "That connection would make a loop."
        )
        assert 201 in statuses and Edge.objects.filter(target_id__in=[a, b]).count() == 1
    assert_graph_valid(project)


def test_the_identical_edge_twice_at_once_is_one_edge_and_a_409(editors, project):
    url = f"/projects/{project.id}/edges"
    for _ in range(ROUNDS):
        prompt, video = node(editors[0], project, "prompt", text="a"), node(editors[0], project, "video")
        responses = at_once(*[(api.post, url, edge(prompt, "text", video, "prompt")) for api in editors])
        assert sorted(answers(responses)) == [201, 409]
        assert Edge.objects.filter(target_id=video).count() == 1
    assert_graph_valid(project)


def test_connecting_to_a_node_being_deleted(editors, project):
    for _ in range(ROUNDS):
        prompt, video = node(editors[0], project, "prompt", text="a"), node(editors[0], project, "video")
        statuses = answers(
            at_once(
                (editors[0].post, f"/projects/{project.id}/edges", edge(prompt, "text", video, "prompt")),
                (editors[1].delete, f"/projects/{project.id}/nodes/{video}"),
            )
        )
        assert statuses[1] == 204 and not Node.objects.filter(pk=video).exists()
        assert not Edge.objects.filter(target_id=video).exists()
    assert_graph_valid(project)


def test_running_while_a_node_is_deleted(editors, project):
    for _ in range(ROUNDS):
        keep, doomed = node(editors[0], project, "prompt", text="a"), node(editors[0], project, "prompt", text="b")
        statuses = answers(
            at_once(
                (editors[0].post, f"/projects/{project.id}/runs", {"targets": []}),
                (editors[1].delete, f"/projects/{project.id}/nodes/{doomed}"),
            )
        )
        assert statuses == [200, 204]
        assert Node.objects.filter(pk=keep).exists() and not Node.objects.filter(pk=doomed).exists()
    assert_graph_valid(project)


def test_importing_while_connecting(editors, project):
    document = {
        "nodes": [{"key": "p", "type": "prompt", "params": {"text": "x"}}, {"key": "v", "type": "video"}],
        "edges": [{"source": "p", "source_port": "text", "target": "v", "target_port": "prompt"}],
    }
    for _ in range(ROUNDS):
        prompt, video = node(editors[0], project, "prompt", text="a"), node(editors[0], project, "video")
        statuses = answers(
            at_once(
                (editors[0].post, f"/projects/{project.id}/graph/import", document),
                (editors[1].post, f"/projects/{project.id}/edges", edge(prompt, "text", video, "prompt")),
            )
        )
        assert statuses[0] == 200
        assert Node.objects.filter(project=project).count() == 2  # the document's graph, and only it
        assert Edge.objects.filter(project=project).count() == 1
    assert_graph_valid(project)


def test_a_graph_write_under_way_never_blocks_a_commit_that_refers_to_the_project(project, alice, redis):
    """The graph's lock serialises writers, but a row that merely refers to the project (a job a worker
    writes, a take, an asset) is checked by PostgreSQL at commit with a key-share lock on the project's
    row: a writer holding the project FOR UPDATE made that commit wait, and with the worker holding a node
    the writer wanted, PostgreSQL found a deadlock and the user's edit answered 503 (seen in CI)."""
    from django.db import transaction

    from actions.editing import update_node

    prompt = Node.objects.create(project=project, type="prompt", params={"text": "first"})
    holding, done = threading.Event(), threading.Event()

    def edit_and_hold():
        try:
            with transaction.atomic():
                update_node(Node.objects.get(pk=prompt.pk), alice, prompt.version, {"params": {"text": "second"}})
                holding.set()
                done.wait(timeout=20)
        finally:
            connection.close()

    writer = threading.Thread(target=edit_and_hold)
    writer.start()
    try:
        assert holding.wait(timeout=20)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '3s'")
            # Deferred foreign keys are checked here, at commit: it must not wait for the editor.
            Node.objects.create(project=project, type="prompt", params={"text": "made meanwhile"})
    finally:
        done.set()
        writer.join()
    assert Node.objects.get(pk=prompt.pk).params == {"text": "second"}
    assert Node.objects.filter(project=project).count() == 2
