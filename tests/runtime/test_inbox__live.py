"""The inbox's live feed: the page-wide socket joins the user's candidate groups, so a
task created for a group, claimed or completed reaches every member's open inbox and no
one else's."""
import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from config.asgi import application
from runtime import services
from tests.runtime.inbox_setup import People, deploy_fixture, start_loan

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def socket_for(user):
    def cookie():
        client = Client()
        client.force_login(user)
        return client.cookies["sessionid"].value

    comm = WebsocketCommunicator(application, "/ws/live/", headers=[
        (b"origin", b"http://127.0.0.1"), (b"cookie", f"sessionid={await sync_to_async(cookie)()}".encode())])
    connected, _ = await comm.connect()
    assert connected
    assert (await comm.receive_json_from())["type"] == "hello"
    return comm


async def test_group_members_hear_about_new_claimed_and_completed_tasks(eager_celery):
    people = await sync_to_async(People)()
    await sync_to_async(deploy_fixture)("loan_approval.bpmn")
    olivia, oscar, carol = [await socket_for(u) for u in (people.olivia, people.oscar, people.carol)]
    try:
        task = await sync_to_async(start_loan)(user=people.carol)
        for comm in (olivia, oscar):
            event = await comm.receive_json_from(timeout=3)
            assert event["type"] == "task" and event["task"] == task.pk and event["state"] == "open"
            assert event["seq"] >= 1  # the instance's history sequence number
        assert await carol.receive_nothing(timeout=0.3)  # not a candidate: hears nothing

        await sync_to_async(services.task_claim)(task=task.pk, user=people.oscar)
        event = await olivia.receive_json_from(timeout=3)
        assert (event["state"], event["assignee"]) == ("claimed", people.oscar.pk)

        await sync_to_async(services.task_complete)(task=task.pk, user=people.oscar, variables={"decision": "reject"})
        states = set()
        while not states & {"completed"}:
            states.add((await olivia.receive_json_from(timeout=3)).get("state"))
        assert await carol.receive_nothing(timeout=0.2)
    finally:
        for comm in (olivia, oscar, carol):
            await comm.disconnect()


async def test_a_batch_of_payloads_reaches_the_socket_one_frame_each_in_order():
    from channels.layers import get_channel_layer

    from runtime.live import user_group

    people = await sync_to_async(People)()
    comm = await socket_for(people.olivia)
    try:
        await get_channel_layer().group_send(user_group(people.olivia.pk), {
            "type": "push", "payloads": [{"type": "task", "task": 1}, {"type": "task", "task": 2}]})
        assert [(await comm.receive_json_from(timeout=3))["task"] for _ in range(2)] == [1, 2]
    finally:
        await comm.disconnect()
