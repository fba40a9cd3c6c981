"""Helpers to open real WebSocket connections against the real ASGI application."""

import asyncio
import contextlib

from channels.testing import WebsocketCommunicator
from django.test import Client

from config.asgi import application

ORIGIN = "http://127.0.0.1:8000"


def session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


def headers_for(user=None, origin: str | None = ORIGIN) -> list[tuple[bytes, bytes]]:
    headers = []
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    if user is not None:
        headers.append((b"cookie", session_cookie(user)))
    return headers


# Channels' communicator waits 1 s by default for each step, which a loaded CI machine can exceed
# (a disconnect alone is four Redis round trips: leave the group, leave and read presence, announce).
# Waiting longer never makes a test pass that should fail: a missing message still times out.
PATIENCE = 10


class ProjectSocket(WebsocketCommunicator):
    async def connect(self, timeout=PATIENCE):
        accepted, detail = await super().connect(timeout)
        if not accepted:
            # Refused: the consumer still waits on the channel layer. End it as a browser would (it
            # goes away), so that it does not stay mid-receive until this event loop is torn down:
            # cancelling it there once hung a test for 300 s, and left state that broke the next ones.
            await self.send_input({"type": "websocket.disconnect", "code": 1006})
            with contextlib.suppress(asyncio.TimeoutError):
                await self.wait(timeout)
        return accepted, detail

    async def receive_from(self, timeout=PATIENCE):
        return await super().receive_from(timeout)

    async def receive_json_from(self, timeout=PATIENCE):
        return await super().receive_json_from(timeout)

    async def disconnect(self, code=1000, timeout=PATIENCE):
        return await super().disconnect(code, timeout)


def project_socket(project_id, headers) -> ProjectSocket:
    return ProjectSocket(application, f"/ws/projects/{project_id}/", headers=headers)


async def next_event(socket: WebsocketCommunicator, timeout: float = 5) -> dict:
    """The next event that is not a presence update (who has the project open)."""
    while True:
        event = await socket.receive_json_from(timeout=timeout)
        if event["type"] != "presence":
            return event


async def next_close(socket: WebsocketCommunicator, timeout: float = 5) -> dict:
    while True:
        output = await socket.receive_output(timeout=timeout)
        if output["type"] == "websocket.close":
            return output
