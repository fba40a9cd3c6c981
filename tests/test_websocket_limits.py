"""The live channel under abuse: oversized frames close with 1009, a flood closes with 1008,
unstorable text is refused naming the field, and a canvas whose socket broke leaves the presence list."""

import asyncio
import contextvars

import pytest
from asgiref.sync import async_to_sync

from live import consumers, presence
from projects.models import Membership
from tests.websockets import ProjectSocket, headers_for, next_close, project_socket

pytestmark = pytest.mark.django_db


async def opened(project_id, headers) -> ProjectSocket:
    socket = project_socket(project_id, headers)
    accepted, _ = await socket.connect()
    assert accepted
    await socket.receive_json_from()  # snapshot
    return socket


def test_a_frame_over_the_size_limit_closes_with_1009(project, alice, redis):
    headers = headers_for(alice)

    async def scenario():
        socket = await opened(project.id, headers)
        await socket.send_to(text_data="x" * (consumers.MAX_MESSAGE_BYTES + 1))
        return await next_close(socket)

    assert async_to_sync(scenario)()["code"] == 1009


def test_a_flood_of_messages_closes_with_1008_after_the_burst(project, alice, redis):
    headers = headers_for(alice)

    async def scenario():
        socket = await opened(project.id, headers)
        for _ in range(consumers.MESSAGE_BURST * 5):
            await socket.send_json_to({"type": "ping"})
        outputs = []
        while not outputs or outputs[-1]["type"] != "websocket.close":
            outputs.append(await socket.receive_output(timeout=10))
        return outputs

    outputs = async_to_sync(scenario)()
    assert outputs[-1]["code"] == 1008
    replies = [output for output in outputs if output["type"] == "websocket.send" and '"error"' in output["text"]]
    assert consumers.MESSAGE_BURST <= len(replies) < consumers.MESSAGE_BURST * 5


def test_unstorable_text_in_a_message_is_refused_naming_the_field(project, alice, redis):
    headers = headers_for(alice)

    async def scenario():
        socket = await opened(project.id, headers)
        await socket.send_to(text_data='{"type": "move", "node": {"title": "a\\u0000b"}}')
        while True:
            reply = await socket.receive_json_from()
            if reply["type"] == "error":
                await socket.disconnect()
                return reply

    reply = async_to_sync(scenario)()
    assert reply["error"]["code"] == "invalid" and reply["error"]["details"] == {"field": "node.title"}
    assert "NUL" in reply["error"]["message"]


class BrokenSocket(ProjectSocket):
    """A server whose socket the browser already closed: sending raises, as uvicorn's does."""

    broken = False

    @property
    def future(self):
        if self._future is None:

            async def send(message):
                if self.broken:
                    raise RuntimeError("Unexpected ASGI message 'websocket.send', after sending 'websocket.close'.")
                await self.output_queue.put(message)

            # As ApplicationCommunicator does: the application starts with an empty context.
            self._future = contextvars.Context().run(
                asyncio.create_task, self.application(self.scope, self.input_queue.get, send)
            )
        return self._future


def test_a_canvas_whose_send_fails_leaves_the_presence_list(project, alice, bob, add_member, redis):
    add_member(bob, Membership.Role.EDITOR)
    from config.asgi import application

    alice_headers, bob_headers = headers_for(alice), headers_for(bob)

    async def scenario():
        alice_socket = await opened(project.id, alice_headers)
        bob_socket = BrokenSocket(application, f"/ws/projects/{project.id}/", headers=bob_headers)
        assert (await bob_socket.connect())[0]
        await bob_socket.receive_json_from()  # snapshot
        while len((await bob_socket.receive_json_from())["users"]) < 2:
            pass  # until Bob's canvas is listed with Alice's
        bob_socket.broken = True
        # Alice's canvas closes and reopens: the presence event sent to Bob's socket fails.
        await alice_socket.disconnect()
        with pytest.raises(RuntimeError):
            await bob_socket.wait(timeout=10)
        return await asyncio.to_thread(presence.present, project.id)

    assert async_to_sync(scenario)() == []
