"""Conformance of the emulator with the official asyncio Python client (azure.servicebus.aio), unchanged."""

import asyncio

from azure.servicebus import ServiceBusMessage, ServiceBusSubQueue
from azure.servicebus.aio import ServiceBusClient


async def drain(receiver, want, wait=10):
    got = []
    while len(got) < want:
        batch = await receiver.receive_messages(
            max_message_count=want - len(got), max_wait_time=wait
        )
        if not batch:
            break
        got.extend(batch)
    return got


def test_async_send_receive_settle(conn_str):
    async def run():
        async with ServiceBusClient.from_connection_string(
            conn_str, retry_total=0
        ) as sb:
            async with sb.get_queue_sender("q-basic") as sender:
                await sender.send_messages(
                    [ServiceBusMessage(f"a{i}") for i in range(4)]
                )
            async with sb.get_queue_receiver("q-basic") as receiver:
                msgs = {str(m): m for m in await drain(receiver, 4)}
                assert sorted(msgs) == ["a0", "a1", "a2", "a3"]
                await receiver.complete_message(msgs["a0"])
                await receiver.abandon_message(msgs["a1"])
                await receiver.defer_message(msgs["a2"])
                await receiver.dead_letter_message(
                    msgs["a3"], reason="AsyncReason", error_description="why"
                )
                [again] = await drain(receiver, 1)
                assert str(again) == "a1" and again.delivery_count == 1
                await receiver.complete_message(again)
                [deferred] = await receiver.receive_deferred_messages(
                    [msgs["a2"].sequence_number]
                )
                await receiver.complete_message(deferred)
            async with sb.get_queue_receiver(
                "q-basic", sub_queue=ServiceBusSubQueue.DEAD_LETTER
            ) as dlq:
                [dead] = await drain(dlq, 1)
                assert dead.dead_letter_reason == "AsyncReason"
                await dlq.complete_message(dead)

    asyncio.run(run())


def test_async_streaming_receive(conn_str):
    async def run():
        async with ServiceBusClient.from_connection_string(
            conn_str, retry_total=0
        ) as sb:
            async with sb.get_queue_sender("q-basic") as sender:
                await sender.send_messages(
                    [ServiceBusMessage(f"s{i}") for i in range(20)]
                )
            seen = []
            async with sb.get_queue_receiver("q-basic", max_wait_time=5) as receiver:
                async for m in receiver:
                    seen.append(str(m))
                    await receiver.complete_message(m)
                    if len(seen) == 20:
                        break
            assert sorted(seen) == sorted(f"s{i}" for i in range(20))

    asyncio.run(run())
