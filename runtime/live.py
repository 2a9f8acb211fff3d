"""Live pushes to channel groups, sent only after the transaction that caused them commits.

Groups: ``instance.<id>`` (the instance page), ``version.<id>`` (monitoring counts),
``user.<id>`` and ``group.<name>`` (inboxes). Every payload carries the instance's history
sequence number (``seq``) so a client that notices a gap re-fetches instead of drifting.
A push is a hint, never the truth: any failure is logged and swallowed, so a dead channel
layer can never roll back or break an engine step.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

log = logging.getLogger(__name__)

_GROUP_UNSAFE = re.compile(r"[^0-9A-Za-z_.\-]")


def instance_group(instance_id: int) -> str:
    return f"instance.{instance_id}"


def version_group(version_id: int) -> str:
    return f"version.{version_id}"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def group_group(name: str) -> str:
    """Channel group names allow only ASCII letters, digits, '-', '_' and '.' (max 100)."""
    return "group." + _GROUP_UNSAFE.sub("_", name)[:90]


@dataclass
class Push:
    groups: list[str]
    payload: dict[str, Any]


@dataclass
class PushBatch:
    """Pushes collected during a transaction; ``send_on_commit()`` hands them to the layer."""

    pushes: list[Push] = field(default_factory=list)

    def add(self, groups: list[str], payload: dict[str, Any]) -> None:
        if groups:
            self.pushes.append(Push(sorted(set(groups)), payload))

    def send_on_commit(self) -> None:
        if not self.pushes:
            return
        pushes, self.pushes = self.pushes, []
        transaction.on_commit(lambda: send_now(pushes))


def send_now(pushes: list[Push]) -> None:
    try:
        from asgiref.sync import async_to_sync
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        if layer is None:
            return

        async def send_all():  # one event-loop hop for the whole batch
            for push in pushes:
                for group in push.groups:
                    await layer.group_send(group, {"type": "push", "payload": push.payload})

        async_to_sync(send_all)()
    except Exception:  # a push is only a hint; the page re-fetches on the next one
        log.warning("live push failed", exc_info=True)
