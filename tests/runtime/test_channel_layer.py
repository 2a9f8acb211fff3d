"""runtime.channel_layer on a real Redis: a batch of pushes reaches each socket once, in
order, as one message; nothing is written when nobody listens; an idle socket survives."""
import asyncio
import uuid

import pytest
import pytest_asyncio
from django.conf import settings

pytestmark = [pytest.mark.service, pytest.mark.asyncio,
              pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis (service mode)")]


@pytest_asyncio.fixture
async def layer():
    from runtime.channel_layer import PushingRedisChannelLayer

    layer = PushingRedisChannelLayer(**settings.CHANNEL_LAYERS["default"]["CONFIG"], prefix=f"t{uuid.uuid4().hex[:8]}")
    yield layer
    await layer.flush()
    await layer.close_pools()


async def receive(layer, channel):
    return await asyncio.wait_for(layer.receive(channel), timeout=3)


async def joined(layer, *groups):
    channel = await layer.new_channel()
    for group in groups:
        await layer.group_add(group, channel)
    return channel


async def test_each_socket_gets_its_payloads_once_in_order_in_one_message(layer):
    both = await joined(layer, "user.1", "group.sales")
    sales = await joined(layer, "group.sales")
    risk = await joined(layer, "group.risk")
    await layer.send_pushes([(["user.1", "group.sales"], {"n": 1}), (["group.risk"], {"n": 2}),
                             (["group.sales", "instance.7"], {"n": 3})])

    assert await receive(layer, both) == {"type": "push", "payloads": [{"n": 1}, {"n": 3}]}
    assert await receive(layer, sales) == {"type": "push", "payloads": [{"n": 1}, {"n": 3}]}
    assert await receive(layer, risk) == {"type": "push", "payloads": [{"n": 2}]}


async def test_batches_arrive_in_the_order_they_were_sent_from_either_client(layer):
    channel = await joined(layer, "instance.1")
    for n in range(20):  # the sender thread's blocking client and the asyncio one alternately
        if n % 2:
            await asyncio.to_thread(layer.send_pushes_blocking, [(["instance.1"], {"n": n})])
        else:
            await layer.send_pushes([(["instance.1"], {"n": n})])
    received = [(await receive(layer, channel))["payloads"] for _ in range(20)]
    assert received == [[{"n": n}] for n in range(20)]


async def test_nothing_is_written_when_no_socket_listens(layer):
    import redis

    await layer.send_pushes([(["instance.1", "version.2"], {"n": 1})])
    await asyncio.to_thread(layer.send_pushes_blocking, [(["user.3"], {"n": 2})])
    client = redis.Redis.from_url(settings.REDIS_URL)
    assert client.keys(f"{layer.prefix}*") == []


async def test_an_idle_socket_outlives_the_blocking_pop(layer):
    """channels-redis waits 5 s per BZPOPMIN; redis-py 8 stops reading after 5 s unless told
    otherwise, which closed every socket that heard nothing for 5 s."""
    channel = await layer.new_channel()
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(layer.receive(channel), timeout=layer.brpop_timeout + 1.5)


async def test_members_past_group_expiry_are_dropped_and_hear_nothing(layer):
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    stale = await layer.new_channel()
    client.zadd(layer._group_key("instance.1"), {stale: 1})  # joined long before group_expiry
    await asyncio.to_thread(layer.send_pushes_blocking, [(["instance.1", "version.2"], {"n": 1})])
    await layer.send_pushes([(["instance.1"], {"n": 2})])
    assert client.keys(f"{layer.prefix}*") == []


async def test_the_blocking_client_reopens_a_lost_connection(layer):
    import redis

    channel = await joined(layer, "instance.1")
    link = layer._blocking(0)
    [client_id] = await asyncio.to_thread(link.call, [("CLIENT", "ID")])
    redis.Redis.from_url(settings.REDIS_URL).client_kill_filter(_id=client_id)
    await asyncio.to_thread(layer.send_pushes_blocking, [(["instance.1"], {"n": 1})])
    assert await receive(layer, channel) == {"type": "push", "payloads": [{"n": 1}]}
