import contextlib
import logging

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from redis.exceptions import RedisError

from generation import events
from projects import presence
from projects.models import Project

# Close code sent when a connection is refused (a 403 during the handshake) or a member is removed.
REFUSED = 4403
# Close code when the channel layer (Redis) is away (as 503 in HTTP): the browser retries, and the
# snapshot of its next connection catches it up.
TRY_AGAIN_LATER = 4503

logger = logging.getLogger(__name__)


class ProjectConsumer(AsyncJsonWebsocketConsumer):
    """A project's live channel: a snapshot on connect, then every event of the project, and who is here."""

    group: str | None = None
    project_id: str | None = None

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except (RedisError, OSError) as error:
            # Redis is down or restarting. Nothing is lost: the database is the truth, and the page's
            # next connection starts with a snapshot of it. Refuse (or end) this one, without a traceback.
            logger.warning("Live channel closed: the channel layer is unavailable (%s)", error)
            with contextlib.suppress(Exception):
                await send({"type": "websocket.close", "code": TRY_AGAIN_LATER})

    async def connect(self) -> None:
        project = await self._project_for_member()
        if project is None:
            await self.close(code=REFUSED)
            return
        self.project_id = str(project.id)
        self.group = events.group_name(project.id)
        # Join before the snapshot is read, so that no event falls between the two.
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json(await database_sync_to_async(events.graph_snapshot)(project))
        await sync_to_async(presence.join)(self.project_id, self.channel_name, self.scope["user"])
        await self._announce_presence()

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            await sync_to_async(presence.leave)(self.project_id, self.channel_name)
            await self._announce_presence()

    async def _announce_presence(self) -> None:
        users = await sync_to_async(presence.present)(self.project_id)
        await self.channel_layer.group_send(
            self.group, {"type": "project.event", "event": {"type": "presence", "users": users}}
        )

    async def receive_json(self, content, **kwargs) -> None:
        await self.send_json(
            {
                "type": "error",
                "error": {
                    "code": "unsupported",
                    "message": "This channel only sends events: make changes through the API.",
                },
            }
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
