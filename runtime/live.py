"""Live pushes to channel groups, sent only after the transaction that caused them commits.

Groups: ``instance.<id>`` (the instance page), ``version.<id>`` (monitoring counts),
``user.<id>`` and ``group.<name>`` (inboxes). Every payload carries the instance's history
sequence number (``seq``) so a client that notices a gap re-fetches instead of drifting.
A push is a hint, never the truth: any failure is logged and swallowed, so a dead channel
layer can never roll back or break an engine step.
"""
from __future__ import annotations

import asyncio
import logging
import queue
import re
import threading
import time
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
    """Hand the pushes to the channel layer.

    The in-memory layer (embedded mode) is fed through ``async_to_sync`` in the caller's
    thread, so an outer event loop is reused where there is one. Any other layer (Redis)
    goes through one background thread with long-lived connections (a fresh connection
    per commit cost ~40 ms inside the engine's hot path), which batches what queued up.
    """
    try:
        from channels.layers import InMemoryChannelLayer, get_channel_layer

        layer = get_channel_layer()
        if layer is None:
            return
        if isinstance(layer, InMemoryChannelLayer):
            from asgiref.sync import async_to_sync

            async_to_sync(_send_all)(layer, pushes)
        else:
            _background.submit(layer, pushes)
    except Exception:  # a push is only a hint; the page re-fetches on the next one
        log.warning("live push failed", exc_info=True)


async def _send_all(layer, pushes: list[Push]) -> None:
    """One batch: through ``send_pushes`` when the layer has it (runtime.channel_layer),
    else one ``group_send`` per group, a failing push not stopping the ones after it."""
    send_pushes = getattr(layer, "send_pushes", None)
    if send_pushes is not None:
        await send_pushes([(push.groups, push.payload) for push in pushes])
        return
    for push in pushes:
        try:
            for group in push.groups:
                await layer.group_send(group, {"type": "push", "payload": push.payload})
        except Exception:
            log.warning("live push failed", exc_info=True)


#: the least time between two batches of the background sender: pushes that arrive faster
#: wait up to this long and leave together (a batch costs system calls and GIL handoffs
#: that a worker's own thread then waits on; a push is a hint for a page)
BATCH_WINDOW = 0.005


def coalesce(pushes: list[Push]) -> list[Push]:
    """Drop instance pushes a later one in the same batch supersedes (same instance, same
    groups): a page needs the latest sequence number and status, and one that sees a gap
    re-fetches anyway. Task pushes and everything else go as they are, in order."""
    latest: dict[tuple, int] = {}
    for index, push in enumerate(pushes):
        if push.payload.get("type") == "instance":
            latest[(push.payload.get("instance"), tuple(push.groups))] = index
    if len(latest) == sum(1 for push in pushes if push.payload.get("type") == "instance"):
        return pushes
    return [push for index, push in enumerate(pushes) if push.payload.get("type") != "instance"
            or latest[(push.payload.get("instance"), tuple(push.groups))] == index]


class _BackgroundSender:
    """One daemon thread per process that sends queued pushes in order.

    It takes everything queued since its last send as one batch (at most one batch per
    ``BATCH_WINDOW`` while pushes keep coming), drops the instance pushes a later one in
    the batch supersedes, and sends the rest at once. A layer with
    ``send_pushes_blocking`` (runtime.channel_layer) sends it over a plain Redis client;
    any other goes through the thread's own long-lived event loop."""

    def __init__(self):
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def submit(self, layer, pushes: list[Push]) -> None:
        if self.thread is None or not self.thread.is_alive():
            with self.lock:
                if self.thread is None or not self.thread.is_alive():
                    self.thread = threading.Thread(target=self._run, name="flowyard-live", daemon=True)
                    self.thread.start()
        self.queue.put((layer, pushes))

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        while True:
            items = [self.queue.get()]
            began = time.monotonic()
            while True:
                try:
                    items.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            self._send(loop, items)
            time.sleep(max(0.0, began + BATCH_WINDOW - time.monotonic()))

    def _send(self, loop, items: list) -> None:
        """Send runs of pushes for the same layer as one batch each; a flush marker
        (layer None) is set once everything queued before it was sent."""
        layer, batch = None, []
        for item_layer, pushes in items + [(None, None)]:
            if batch and item_layer is not layer:
                try:
                    batch = coalesce(batch)
                    blocking = getattr(layer, "send_pushes_blocking", None)
                    if blocking is not None:
                        blocking([(push.groups, push.payload) for push in batch])
                    else:
                        loop.run_until_complete(_send_all(layer, batch))
                except Exception:
                    log.warning("live push failed", exc_info=True)
                batch = []
            if item_layer is None:
                if pushes is not None:
                    pushes.set()
                continue
            layer = item_layer
            batch += pushes

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything queued so far was sent (tests, shutdown)."""
        done = threading.Event()
        if self.thread is None:
            return True
        self.queue.put((None, done))
        return done.wait(timeout)


_background = _BackgroundSender()
