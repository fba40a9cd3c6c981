import asyncio

import pytest
from asgiref.sync import async_to_sync, sync_to_async

from live import events
from projects.models import Membership
from tests.factories import NodeFactory, ProjectFactory
from tests.websockets import headers_for, next_event, project_socket

pytestmark = pytest.mark.django_db


def connect(project_id, headers):
    """Open a socket, read the first message, close. Returns (accepted, first message or close code)."""

    async def scenario():
        socket = project_socket(project_id, headers)
        accepted, code_or_subprotocol = await socket.connect()
        if not accepted:
            return False, code_or_subprotocol
        first = await socket.receive_json_from()
        await socket.disconnect()
        return True, first

    return async_to_sync(scenario)()


def test_a_member_gets_a_snapshot_of_the_graph_on_connect(project, alice, redis):
    node = NodeFactory(project=project, title="Opening shot")

    accepted, snapshot = connect(project.id, headers_for(alice))

    assert accepted
    assert snapshot["type"] == "graph.snapshot"
    assert snapshot["project"] == {"id": str(project.id), "name": "Alice's film"}
    assert [(n["id"], n["title"], n["status"]) for n in snapshot["nodes"]] == [(str(node.id), "Opening shot", "idle")]
    assert snapshot["edges"] == []


@pytest.mark.parametrize("role", [Membership.Role.VIEWER, Membership.Role.EDITOR])
def test_every_role_of_member_is_accepted(project, bob, add_member, redis, role):
    add_member(bob, role)

    accepted, snapshot = connect(project.id, headers_for(bob))

    assert accepted and snapshot["type"] == "graph.snapshot"


def test_an_outsider_is_refused(project, bob, redis):
    ProjectFactory(owner=bob)  # bob is a user with projects of his own, just not this one

    accepted, code = connect(project.id, headers_for(bob))

    assert not accepted
    assert code == 4403


def test_an_anonymous_connection_is_refused(project, redis):
    accepted, code = connect(project.id, headers_for(None))

    assert not accepted
    assert code == 4403


def test_a_connection_from_a_foreign_origin_is_refused(project, alice, redis):
    accepted, _ = connect(project.id, headers_for(alice, origin="https://evil.example"))

    assert not accepted


def test_a_connection_without_an_origin_is_refused(project, alice, redis):
    accepted, _ = connect(project.id, headers_for(alice, origin=None))

    assert not accepted


def test_an_unknown_project_is_refused_like_a_foreign_one(alice, redis):
    accepted, code = connect("00000000-0000-0000-0000-000000000000", headers_for(alice))

    assert not accepted
    assert code == 4403


def test_events_reach_the_members_of_their_project_only(project, alice, bob, redis):
    node = NodeFactory(project=project, title="Opening shot")
    bobs_project = ProjectFactory(owner=bob)
    alice_headers, bob_headers = headers_for(alice), headers_for(bob)

    async def scenario():
        alice_socket = project_socket(project.id, alice_headers)
        bob_socket = project_socket(bobs_project.id, bob_headers)
        assert (await alice_socket.connect())[0] and (await bob_socket.connect())[0]
        await alice_socket.receive_json_from()
        await bob_socket.receive_json_from()

        await sync_to_async(events.send)(project.id, events.node_status(node))

        received = await next_event(alice_socket)
        bob_heard = []
        while not await bob_socket.receive_nothing(timeout=0.5):
            bob_heard.append(await bob_socket.receive_json_from())
        bob_heard_nothing = all(event["type"] == "presence" for event in bob_heard)
        await alice_socket.disconnect()
        await bob_socket.disconnect()
        return received, bob_heard_nothing

    received, bob_heard_nothing = async_to_sync(scenario)()

    assert received["type"] == "node.status"
    assert received["node"]["id"] == str(node.id)
    assert bob_heard_nothing


def test_the_channel_refuses_messages_it_does_not_understand(project, alice, redis):
    headers = headers_for(alice)

    async def scenario():
        socket = project_socket(project.id, headers)
        await socket.connect()
        await socket.receive_json_from()
        await socket.send_json_to({"type": "node.delete", "id": "x"})
        reply = await next_event(socket)
        await socket.disconnect()
        return reply

    reply = async_to_sync(scenario)()

    assert reply["type"] == "error"
    assert reply["error"]["code"] == "unsupported"


def test_a_quiet_project_still_hears_the_next_event(project, alice, redis):
    """Regression: redis-py's default 5 s read timeout used to kill a consumer's receive loop."""
    node = NodeFactory(project=project, title="Opening shot")
    headers = headers_for(alice)

    async def scenario():
        socket = project_socket(project.id, headers)
        await socket.connect()
        await socket.receive_json_from()
        await asyncio.sleep(7)
        await sync_to_async(events.send)(project.id, events.node_status(node))
        event = await next_event(socket)
        await socket.disconnect()
        return event

    assert async_to_sync(scenario)()["type"] == "node.status"


def test_everyone_with_the_project_open_is_announced(project, alice, bob, add_member, redis):
    add_member(bob, Membership.Role.VIEWER)
    alice_headers, bob_headers = headers_for(alice), headers_for(bob)

    async def scenario():
        alice_socket = project_socket(project.id, alice_headers)
        await alice_socket.connect()
        await alice_socket.receive_json_from()  # snapshot
        alone = await alice_socket.receive_json_from()
        bob_socket = project_socket(project.id, bob_headers)
        await bob_socket.connect()
        together = await alice_socket.receive_json_from()
        await bob_socket.disconnect()
        after = await alice_socket.receive_json_from()
        await alice_socket.disconnect()
        return alone, together, after

    alone, together, after = async_to_sync(scenario)()
    assert alone == {"type": "presence", "users": [{"id": alice.id, "username": "alice"}]}
    assert [user["username"] for user in together["users"]] == ["alice", "bob"]
    assert [user["username"] for user in after["users"]] == ["alice"]
