"""The Redis channel layer of service mode, with one extra call: ``send_pushes``.

channels-redis sends to a group in 2 Redis round trips when nobody listens (expire old
members, read members) and 4 when someone does; one engine commit pushes to 3-6 groups,
so a commit cost 10-20 round trips in a sender thread that competes with the engine for
the GIL. ``send_pushes`` sends everything the live sender has queued in at most one
round trip to read the members of every group (one script call), plus one to write, only
when some socket listens. Each socket gets one message per batch carrying its payloads in
order (``{"type": "push", "payloads": [...]}``), so a socket in several of a push's
groups hears it once, and its Daphne receives one message instead of one per push.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict

from channels_redis.core import RedisChannelLayer
from redis.exceptions import ConnectionError as RedisConnectionError

log = logging.getLogger(__name__)

# channels-redis's own group-send script: add each message unless its queue is full.
_ADD_UNLESS_FULL = """
    local over_capacity = 0
    local current_time = ARGV[#ARGV - 1]
    local expiry = ARGV[#ARGV]
    for i=1,#KEYS do
        if redis.call('ZCOUNT', KEYS[i], '-inf', '+inf') < tonumber(ARGV[i + #KEYS]) then
            redis.call('ZADD', KEYS[i], current_time, ARGV[i])
            redis.call('EXPIRE', KEYS[i], expiry)
        else
            over_capacity = over_capacity + 1
        end
    end
    return over_capacity
"""


# Drop each group's members past group_expiry, then read the rest: one command for all groups.
_READ_MEMBERS = """
    local members = {}
    for i=1,#KEYS do
        redis.call('ZREMRANGEBYSCORE', KEYS[i], 0, ARGV[1])
        members[i] = redis.call('ZRANGE', KEYS[i], 0, -1)
    end
    return members
"""


def _packed(command: tuple) -> bytes:
    """One Redis command in RESP (its arguments bytes, str or numbers)."""
    parts = [b"*%d\r\n" % len(command)]
    for arg in command:
        if not isinstance(arg, bytes):
            arg = str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(parts)


class _BlockingLink:
    """The live sender's connection to one Redis host: one redis-py connection kept open,
    commands packed here and sent in one write, replies read in order. Taking a pooled
    connection and packing through the client cost the sender thread more CPU per batch
    than the round trip itself (and that thread competes with the engine for the GIL)."""

    def __init__(self, config: dict):
        import redis

        config = dict(config)
        address = config.pop("address", None)
        self.client = redis.Redis.from_url(address, **config) if address else redis.Redis(**config)
        self.connection = self.client.connection_pool.get_connection()  # held, never given back
        self.lock = threading.Lock()

    def call(self, commands: list[tuple]) -> list:
        """Send ``commands`` and return their replies. A connection the server closed while
        it was idle is reopened and the flight sent once more, as taking one from the pool
        would have (every command here may run twice: reads, and adds of the same bytes)."""
        packed = [b"".join(_packed(command) for command in commands)]
        with self.lock:
            try:
                return self._round_trip(packed, len(commands))
            except RedisConnectionError:
                return self._round_trip(packed, len(commands))

    def _round_trip(self, packed: list[bytes], count: int) -> list:
        connection = self.connection
        try:
            connection.send_packed_command(packed)
            return [connection.read_response() for _ in range(count)]
        except BaseException:
            connection.disconnect()  # replies may be left unread: never reuse the socket as it is
            raise


class PushingRedisChannelLayer(RedisChannelLayer):
    """``RedisChannelLayer`` + ``send_pushes``; everything else is channels-redis's own."""

    _last_score = 0.0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if any("master_name" in host for host in self.hosts):
            raise ValueError("PushingRedisChannelLayer takes Redis URLs or host/port, not Sentinel")

    async def send_pushes(self, pushes: list[tuple[list[str], dict]]) -> None:
        """Deliver each ``(groups, payload)`` to every channel in any of its groups, in order."""
        groups = self._groups(pushes)
        if groups:
            await self._write(self._plan(pushes, await self._members(groups)))

    def send_pushes_blocking(self, pushes: list[tuple[list[str], dict]]) -> None:
        """``send_pushes`` for a thread without an event loop (runtime.live's sender), over
        a plain redis-py client: the same round trips without asyncio's cost per send."""
        groups = self._groups(pushes)
        if not groups:
            return
        members: dict[str, list[str]] = {}
        for host, names, expired in self._by_host(groups):
            [reply] = self._blocking(host).call([self._read_members(names, expired)])
            members.update(self._members_from(names, reply))
        for host, entries, score in self._plan(pushes, members):
            self._log_over_capacity(self._blocking(host).call(self._add(entries, score))[-1], entries)

    # -- planning: pure ----------------------------------------------------------------

    def _groups(self, pushes) -> list[str]:
        groups = sorted({g for names, _ in pushes for g in names})
        for group in groups:
            assert self.require_valid_group_name(group), "Group name not valid"
        return groups

    def _by_host(self, groups: list[str]):
        by_host: dict[int, list[str]] = defaultdict(list)
        for group in groups:
            by_host[self.consistent_hash(group)].append(group)
        expired = int(time.time()) - self.group_expiry
        return [(host, names, expired) for host, names in by_host.items()]

    def _plan(self, pushes, members: dict[str, list[str]]) -> list[tuple[int, list[tuple[str, bytes, int]], float]]:
        """(host, [(queue key, message, capacity)], score) for every host with a listener."""
        payloads_of: dict[str, list[int]] = {}
        for i, (names, _) in enumerate(pushes):
            for channel in dict.fromkeys(c for g in names for c in members[g]):
                payloads_of.setdefault(channel, []).append(i)
        if not payloads_of:
            return []
        # Channels of one process share a Redis key; those that get the same payloads share a message.
        bundles: dict[tuple[str, tuple[int, ...]], list[str]] = defaultdict(list)
        for channel, indices in payloads_of.items():
            bundles[(self._channel_key(channel), tuple(indices))].append(channel)
        by_host: dict[int, list[tuple[str, bytes, int]]] = defaultdict(list)
        for (key, indices), channels in bundles.items():
            message = {"type": "push", "payloads": [pushes[i][1] for i in indices], "__asgi_channel__": channels}
            host = self.consistent_hash(key[len(self.prefix):])
            by_host[host].append((key, self.serialize(message), self.get_capacity(channels[0])))
        # Scores order a queue: never equal to or below the previous batch's, even if the clock stalls.
        score = self._last_score = max(time.time(), self._last_score + 1e-6)
        return [(host, entries, score) for host, entries in by_host.items()]

    def _channel_key(self, channel: str) -> str:
        return self.prefix + (self.non_local_name(channel) if "!" in channel else channel)

    # -- commands: the same for the asyncio and the blocking client ----------------------

    def _read_members(self, names: list[str], expired: int) -> tuple:
        keys = [self._group_key(group) for group in names]
        return ("EVAL", _READ_MEMBERS, len(keys), *keys, expired)

    @staticmethod
    def _members_from(names: list[str], reply: list) -> dict[str, list[str]]:
        return {group: [c.decode("utf8") for c in channels] for group, channels in zip(names, reply)}

    def _add(self, entries: list[tuple[str, bytes, int]], score: float) -> list[tuple]:
        """Drop expired messages from each queue, then add the new ones unless full; the
        last reply counts the messages dropped for capacity."""
        expired = int(time.time()) - int(self.expiry)
        commands: list[tuple] = [("ZREMRANGEBYSCORE", key, 0, expired)
                                 for key in dict.fromkeys(key for key, _, _ in entries)]
        keys = [key for key, _, _ in entries]
        args = [message for _, message, _ in entries] + [capacity for _, _, capacity in entries]
        commands.append(("EVAL", _ADD_UNLESS_FULL, len(keys), *keys, *args, score, self.expiry))
        return commands

    @staticmethod
    def _log_over_capacity(over_capacity: int, entries: list) -> None:
        if over_capacity:
            log.info("%s of %s live messages dropped: their channels are over capacity", over_capacity, len(entries))

    # -- I/O -----------------------------------------------------------------------------

    async def _members(self, groups: list[str]) -> dict[str, list[str]]:
        members: dict[str, list[str]] = {}
        for host, names, expired in self._by_host(groups):
            reply = await self.connection(host).execute_command(*self._read_members(names, expired))
            members.update(self._members_from(names, reply))
        return members

    async def _write(self, plan) -> None:
        for host, entries, score in plan:
            pipe = self.connection(host).pipeline(transaction=False)
            for command in self._add(entries, score):
                pipe.execute_command(*command)
            self._log_over_capacity((await pipe.execute())[-1], entries)

    def _blocking(self, host: int) -> _BlockingLink:
        """The sender thread's link to a host, made on first use."""
        links = self.__dict__.setdefault("_blocking_links", {})
        if host not in links:
            links[host] = _BlockingLink(self.hosts[host])
        return links[host]
