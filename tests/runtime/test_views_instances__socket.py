"""ws/instances/<id>/: a viewer who may see the instance joins its group, hears a hello
with the current seq and then the pushes; a stranger and an anonymous socket are refused."""
import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from django.test import Client

from config.asgi import application
from runtime.live import instance_group

from tests.runtime.instance_pages import bare_instance, bare_version

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]
ORIGIN = (b"origin", b"http://127.0.0.1")


@sync_to_async
def _setup():
    starter = User.objects.create_user("sue")
    User.objects.create_user("stan")
    instance = bare_instance(bare_version(), started_by=starter, events=4)
    return instance.pk


@sync_to_async
def _cookie(username: str) -> bytes:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def _socket(instance_id: int, username: str | None):
    headers = [ORIGIN] + ([(b"cookie", await _cookie(username))] if username else [])
    return WebsocketCommunicator(application, f"/ws/instances/{instance_id}/", headers=headers)


async def test_starter_joins_gets_hello_with_seq_and_receives_a_push():
    instance_id = await _setup()
    comm = await _socket(instance_id, "sue")
    connected, _ = await comm.connect()
    assert connected
    assert await comm.receive_json_from() == {"type": "hello", "instance": instance_id, "seq": 4}
    payload = {"type": "instance", "instance": instance_id, "seq": 9, "status": "completed"}
    await get_channel_layer().group_send(instance_group(instance_id), {"type": "push", "payload": payload})
    assert await comm.receive_json_from(timeout=2) == payload
    await comm.disconnect()


async def test_stranger_is_refused_and_hears_nothing():
    instance_id = await _setup()
    comm = await _socket(instance_id, "stan")
    connected, code = await comm.connect()
    assert not connected and code == 4403
    await comm.disconnect()  # the server side goes away too: the consumer ends cleanly


async def test_missing_instance_is_refused_like_a_foreign_one():
    await _setup()
    comm = await _socket(987654, "sue")
    connected, code = await comm.connect()
    assert not connected and code == 4403
    await comm.disconnect()  # the server side goes away too: the consumer ends cleanly


async def test_anonymous_is_refused():
    instance_id = await _setup()
    comm = await _socket(instance_id, None)
    connected, code = await comm.connect()
    assert not connected and code == 4401
    await comm.disconnect()
