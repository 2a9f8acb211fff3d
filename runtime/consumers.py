"""WebSocket consumers. Each authenticates through the session and checks permission
before joining a channel group; anonymous sockets are closed with code 4401."""
from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from runtime.live import group_group, instance_group, user_group

__all__ = ["InstanceConsumer", "LiveConsumer", "user_group"]


class GroupConsumer(AsyncJsonWebsocketConsumer):
    """Joins channel groups after its subclass has checked permission, forwards their
    'push' messages to the browser as they are, answers pings and leaves on close."""

    groups_joined: list[str] = []

    async def join(self, groups: list[str]) -> None:
        self.groups_joined = list(groups)
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)

    async def disconnect(self, code):
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def push(self, event):
        """One payload (in-memory layer) or several in order (runtime.channel_layer's batches)."""
        for payload in event["payloads"] if "payloads" in event else [event["payload"]]:
            await self.send_json(payload)


class LiveConsumer(GroupConsumer):
    """The page-wide live connection: proves the socket path and carries per-user pushes."""

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        # The user's own inbox, plus one group per candidate group they belong to (the
        # inbox's "My groups" tab); membership is read once, at connect.
        await self.join([user_group(user.pk), *await self.candidate_groups(user)])
        await self.accept()
        await self.send_json({"type": "hello", "user": user.get_username()})

    @database_sync_to_async
    def candidate_groups(self, user) -> list[str]:
        return [group_group(name) for name in user.groups.values_list("name", flat=True)]



class InstanceConsumer(GroupConsumer):
    """The live instance page: joins ``instance.<id>`` when the user may see the instance
    (staff, its starter, or someone with a task in it) and says hello with the current
    history seq, so a page that missed pushes while connecting knows to re-fetch."""

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        instance_id = int(self.scope["url_route"]["kwargs"]["pk"])
        if not await database_sync_to_async(_may_watch)(user, instance_id):
            await self.close(code=4403)  # the same answer for "missing" and "not yours"
            return
        await self.join([instance_group(instance_id)])
        await self.accept()
        # Read after joining: a push committed in between is either counted here or delivered.
        seq = await database_sync_to_async(_history_seq)(instance_id)
        await self.send_json({"type": "hello", "instance": instance_id, "seq": seq})



def _may_watch(user, instance_id: int) -> bool:
    from runtime.monitoring import can_view_instance

    return can_view_instance(user, instance_id)


def _history_seq(instance_id: int) -> int:
    from runtime.models import ProcessInstance

    return ProcessInstance.objects.filter(pk=instance_id).values_list("history_seq", flat=True).first() or 0
