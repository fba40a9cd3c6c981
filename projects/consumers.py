from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from generation import events
from projects.models import Project

# Close code sent when a connection is refused (a 403 during the handshake).
REFUSED = 4403


class ProjectConsumer(AsyncJsonWebsocketConsumer):
    """A project's live channel: a snapshot on connect, then every event of the project."""

    group: str | None = None

    async def connect(self) -> None:
        project = await self._project_for_member()
        if project is None:
            await self.close(code=REFUSED)
            return
        self.group = events.group_name(project.id)
        # Join before the snapshot is read, so that no event falls between the two.
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json(await database_sync_to_async(events.graph_snapshot)(project))

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs) -> None:
        await self.send_json(
            {"type": "error", "error": {"code": "unsupported", "message": "This channel only sends events."}}
        )

    async def project_event(self, message: dict) -> None:
        event = message["event"]
        if event["type"] == "member.removed" and event["user_id"] == self.scope["user"].pk:
            await self.close(code=REFUSED)  # no longer a member: this canvas sees nothing more
            return
        await self.send_json(event)

    @database_sync_to_async
    def _project_for_member(self) -> Project | None:
        project_id = self.scope["url_route"]["kwargs"]["project_id"]
        return Project.objects.for_user(self.scope["user"]).filter(pk=project_id).first()
