"""The WebSocket path: session auth, origin validation, and a push reaching the browser."""
import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User

from config.asgi import application
from runtime.consumers import user_group

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def _session_cookie(username: str) -> bytes:
    from django.test import Client

    def login():
        User.objects.create_user(username, password="pw")
        client = Client()
        client.login(username=username, password="pw")
        return client.cookies["sessionid"].value

    return f"sessionid={await sync_to_async(login)()}".encode()


async def test_logged_in_socket_says_hello_and_receives_user_pushes():
    cookie = await _session_cookie("alice")
    comm = WebsocketCommunicator(application, "/ws/live/", headers=[(b"origin", b"http://127.0.0.1"), (b"cookie", cookie)])
    connected, _ = await comm.connect()
    assert connected
    assert await comm.receive_json_from() == {"type": "hello", "user": "alice"}
    user_id = await sync_to_async(lambda: User.objects.get(username="alice").pk)()
    await get_channel_layer().group_send(user_group(user_id), {"type": "push", "payload": {"type": "task.created", "seq": 3}})
    assert await comm.receive_json_from(timeout=2) == {"type": "task.created", "seq": 3}
    await comm.disconnect()


async def test_anonymous_socket_is_closed():
    comm = WebsocketCommunicator(application, "/ws/live/", headers=[(b"origin", b"http://127.0.0.1")])
    connected, code = await comm.connect()
    assert not connected
    assert code == 4401
    await comm.disconnect()  # the server side goes away too: the consumer ends cleanly


async def test_foreign_origin_is_refused():
    cookie = await _session_cookie("mallory")
    comm = WebsocketCommunicator(application, "/ws/live/", headers=[(b"origin", b"https://evil.example"), (b"cookie", cookie)])
    connected, _ = await comm.connect()
    assert not connected
    await comm.disconnect()
