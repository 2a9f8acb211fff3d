"""WebSocket consumers. Each authenticates through the session and checks permission
before joining a channel group; anonymous sockets are closed with code 4401."""
from __future__ import annotations

from channels.generic.websocket import AsyncJsonWebsocketConsumer


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


class LiveConsumer(AsyncJsonWebsocketConsumer):
    """The page-wide live connection: proves the socket path and carries per-user pushes."""

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.groups_joined = [user_group(user.pk)]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "hello", "user": user.get_username()})

    async def disconnect(self, code):
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def push(self, event):
        """Group messages of type 'push' are forwarded to the browser as they are."""
        await self.send_json(event["payload"])
