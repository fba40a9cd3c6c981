import contextlib
import logging
import time

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from redis.exceptions import RedisError

from config.unstorable import first_unstorable
from live import events, presence, snapshot
from projects.models import Project

# Close code sent when a connection is refused (a 403 during the handshake) or a member is removed.
REFUSED = 4403
# Close code when the channel layer (Redis) is away (as 503 in HTTP): the browser retries, and the
# snapshot of its next connection catches it up.
TRY_AGAIN_LATER = 4503

# Close codes of RFC 6455: a message over the size limit, and one past the rate limit.
MESSAGE_TOO_BIG = 1009
POLICY_VIOLATION = 1008
# The canvas sends nothing but an occasional ping here (edits go through the API): these limits
# only stop a client that floods the server and slows everyone's live updates.
MAX_MESSAGE_BYTES = 64 * 1024
MESSAGE_BURST = 20  # messages at once,
MESSAGES_PER_SECOND = 5.0  # refilled at this rate

logger = logging.getLogger(__name__)


class TokenBucket:
    def __init__(self, burst: int, rate: float) -> None:
        self.burst, self.rate = burst, rate
        self.tokens, self.checked = float(burst), time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.checked) * self.rate)
        self.checked = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class ProjectConsumer(AsyncJsonWebsocketConsumer):
    """A project's live channel: a snapshot on connect, then every event of the project, and who is here."""

    group: str | None = None
    project_id: str | None = None

    async def __call__(self, scope, receive, send) -> None:
        self.inbound = TokenBucket(MESSAGE_BURST, MESSAGES_PER_SECOND)
        try:
            await super().__call__(scope, receive, send)
        except (RedisError, OSError) as error:
            # Redis is down or restarting. Nothing is lost: the database is the truth, and the page's
            # next connection starts with a snapshot of it. Refuse (or end) this one, without a traceback.
            logger.warning("Live channel closed: the channel layer is unavailable (%s)", error)
            with contextlib.suppress(Exception):
                await send({"type": "websocket.close", "code": TRY_AGAIN_LATER})
        finally:
            # However this connection ended (a send to a socket the browser had already closed raises,
            # and then disconnect() never runs), this canvas is no longer open: say so.
            with contextlib.suppress(Exception):
                await self.disconnect(1006)

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
        await self.send_json(await database_sync_to_async(snapshot.graph_snapshot)(project))
        await sync_to_async(presence.join)(self.project_id, self.channel_name, self.scope["user"])
        await self._announce_presence()

    async def disconnect(self, code: int) -> None:
        if self.group:
            group, self.group = self.group, None  # once, though both the server and __call__ end it
            await self.channel_layer.group_discard(group, self.channel_name)
            await sync_to_async(presence.leave)(self.project_id, self.channel_name)
            await self._announce_presence()

    async def _announce_presence(self) -> None:
        users = await sync_to_async(presence.present)(self.project_id)
        await self.channel_layer.group_send(
            events.group_name(self.project_id), {"type": "project.event", "event": events.presence(users)}
        )

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        size = len(text_data.encode()) if text_data is not None else len(bytes_data or b"")
        if size > MAX_MESSAGE_BYTES:
            await self.close(code=MESSAGE_TOO_BIG)
        elif not self.inbound.take():
            await self.close(code=POLICY_VIOLATION)
        else:
            try:
                content = await self.decode_json(text_data) if text_data is not None else None
            except ValueError:
                await self._error("invalid", "Send JSON text.")
                return
            problem = first_unstorable(content)
            if problem:
                await self._error("invalid", f"{problem[0]}: {problem[1]}", field=problem[0])
                return
            await self._error("unsupported", "This channel only sends events: make changes through the API.")

    async def _error(self, code: str, message: str, **details) -> None:
        await self.send_json({"type": "error", "error": {"code": code, "message": message, "details": details}})

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
