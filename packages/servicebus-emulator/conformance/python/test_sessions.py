"""Sessions with the official Python client (azure-servicebus), unchanged: sync and asyncio."""

import asyncio
import datetime
import uuid

import pytest
from azure.servicebus import NEXT_AVAILABLE_SESSION, ServiceBusClient, ServiceBusMessage
from azure.servicebus.aio import ServiceBusClient as AsyncServiceBusClient
from azure.servicebus.exceptions import (
    OperationTimeoutError,
    ServiceBusError,
    SessionCannotBeLockedError,
)

QUEUE = "q-sessions"


def client(conn_str):
    return ServiceBusClient.from_connection_string(conn_str, retry_total=0)


def sid(prefix):
    """Session ids unique per test: the emulator is shared by the whole run."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def drain(receiver, want, wait=5):
    got = []
    while len(got) < want:
        batch = receiver.receive_messages(
            max_message_count=want - len(got), max_wait_time=wait
        )
        if not batch:
            break
        got.extend(batch)
    return got


def test_named_session_fifo_and_lock(conn_str):
    a, b = sid("a"), sid("b")
    with client(conn_str) as sb:
        with sb.get_queue_sender(QUEUE) as sender:
            sender.send_messages(
                [
                    ServiceBusMessage("a1", session_id=a),
                    ServiceBusMessage("b1", session_id=b),
                    ServiceBusMessage("a2", session_id=a),
                    ServiceBusMessage("a3", session_id=a),
                ]
            )
        with sb.get_queue_receiver(QUEUE, session_id=a, max_wait_time=5) as r:
            assert r.session.session_id == a
            now = datetime.datetime.now(datetime.timezone.utc)
            assert (
                now < r.session.locked_until_utc < now + datetime.timedelta(seconds=10)
            )
            msgs = drain(r, 3)
            assert [str(m) for m in msgs] == ["a1", "a2", "a3"]
            assert all(m.session_id == a for m in msgs)
            for m in msgs:
                r.complete_message(m)
        with sb.get_queue_receiver(QUEUE, session_id=b, max_wait_time=5) as r:
            (m,) = drain(r, 1)
            assert str(m) == "b1"
            r.complete_message(m)


def test_session_state_and_renew(conn_str):
    s = sid("state")
    with client(conn_str) as sb:
        with sb.get_queue_receiver(QUEUE, session_id=s, max_wait_time=5) as r:
            assert r.session.get_state() is None
            r.session.set_state(b"step-2")
            assert r.session.get_state() == b"step-2"
            before = r.session.locked_until_utc
            renewed = r.session.renew_lock()
            assert renewed >= before
            r.session.set_state(None)
            assert r.session.get_state() is None


def test_held_session_cannot_be_locked_twice(conn_str):
    s = sid("held")
    with client(conn_str) as sb:
        with sb.get_queue_sender(QUEUE) as sender:
            sender.send_messages(ServiceBusMessage("x", session_id=s))
        with sb.get_queue_receiver(QUEUE, session_id=s, max_wait_time=5) as held:
            with client(conn_str) as other:
                with pytest.raises(SessionCannotBeLockedError):
                    with other.get_queue_receiver(
                        QUEUE, session_id=s, max_wait_time=2
                    ) as r:
                        r.receive_messages(max_wait_time=1)
            (m,) = drain(held, 1)
            held.complete_message(m)


def test_next_available_session(conn_str):
    s = sid("next")
    with client(conn_str) as sb:
        with sb.get_queue_sender(QUEUE) as sender:
            sender.send_messages(
                [
                    ServiceBusMessage("n1", session_id=s),
                    ServiceBusMessage("n2", session_id=s),
                ]
            )
        with sb.get_queue_receiver(
            QUEUE, session_id=NEXT_AVAILABLE_SESSION, max_wait_time=5
        ) as r:
            assert r.session.session_id == s
            msgs = drain(r, 2)
            assert [str(m) for m in msgs] == ["n1", "n2"]
            for m in msgs:
                r.complete_message(m)


def test_next_available_times_out_without_sessions(conn_str):
    with client(conn_str) as sb:
        with pytest.raises(OperationTimeoutError):
            with sb.get_queue_receiver(
                QUEUE, session_id=NEXT_AVAILABLE_SESSION, max_wait_time=2
            ) as r:
                r.receive_messages(max_wait_time=1)


def test_session_peek_and_deferral(conn_str):
    d, e = sid("d"), sid("e")
    with client(conn_str) as sb:
        with sb.get_queue_sender(QUEUE) as sender:
            sender.send_messages(
                [
                    ServiceBusMessage("d1", session_id=d),
                    ServiceBusMessage("e1", session_id=e),
                ]
            )
        with sb.get_queue_receiver(QUEUE, session_id=d, max_wait_time=5) as r:
            assert [str(m) for m in r.peek_messages(max_message_count=10)] == ["d1"]
            (m,) = drain(r, 1)
            r.defer_message(m)
            (deferred,) = r.receive_deferred_messages([m.sequence_number])
            assert str(deferred) == "d1"
            r.complete_message(deferred)
        with sb.get_queue_receiver(QUEUE, session_id=e, max_wait_time=5) as r:
            (m,) = drain(r, 1)
            r.complete_message(m)


def test_plain_receiver_and_sessionless_message_refused(conn_str):
    with client(conn_str) as sb:
        with pytest.raises(ServiceBusError, match="SessionId was not set"):
            with sb.get_queue_sender(QUEUE) as sender:
                sender.send_messages(ServiceBusMessage("no session"))
        with pytest.raises(ServiceBusError, match="non-sessionful"):
            with sb.get_queue_receiver(QUEUE, max_wait_time=1) as r:
                r.receive_messages(max_wait_time=1)


def test_subscription_sessions(conn_str):
    k = sid("k")
    with client(conn_str) as sb:
        with sb.get_topic_sender("t-sessions") as sender:
            sender.send_messages(
                [
                    ServiceBusMessage("1", session_id=k),
                    ServiceBusMessage("2", session_id=k),
                ]
            )
        with sb.get_subscription_receiver(
            "t-sessions", "by-session", session_id=k, max_wait_time=5
        ) as r:
            msgs = drain(r, 2)
            assert [str(m) for m in msgs] == ["1", "2"]
            for m in msgs:
                r.complete_message(m)


def test_async_session_receive_and_state(conn_str):
    s = sid("async")

    async def run():
        async with AsyncServiceBusClient.from_connection_string(
            conn_str, retry_total=0
        ) as sb:
            async with sb.get_queue_sender(QUEUE) as sender:
                await sender.send_messages(
                    [ServiceBusMessage(f"m{i}", session_id=s) for i in range(3)]
                )
            async with sb.get_queue_receiver(
                QUEUE, session_id=NEXT_AVAILABLE_SESSION, max_wait_time=5
            ) as r:
                assert r.session.session_id == s
                got = []
                while len(got) < 3:
                    batch = await r.receive_messages(
                        max_message_count=3, max_wait_time=5
                    )
                    if not batch:
                        break
                    got.extend(batch)
                assert [str(m) for m in got] == ["m0", "m1", "m2"]
                for m in got:
                    await r.complete_message(m)
                await r.session.set_state(b"async-state")
                assert await r.session.get_state() == b"async-state"
                assert await r.session.renew_lock() > datetime.datetime.now(
                    datetime.timezone.utc
                )

    asyncio.run(run())
