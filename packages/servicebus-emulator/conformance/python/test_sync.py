"""Conformance of the emulator with the official synchronous Python client (azure-servicebus), unchanged."""

import datetime
import uuid

import pytest
from azure.servicebus import (
    ServiceBusClient,
    ServiceBusMessage,
    ServiceBusReceiveMode,
    ServiceBusSubQueue,
)
from azure.servicebus.exceptions import (
    MessageSizeExceededError,
    ServiceBusAuthenticationError,
)


def client(conn_str):
    return ServiceBusClient.from_connection_string(conn_str, retry_total=0)


def drain(receiver, want, wait=10):
    """Receives until `want` messages arrived or `wait` seconds passed without one."""
    got = []
    while len(got) < want:
        batch = receiver.receive_messages(
            max_message_count=want - len(got), max_wait_time=wait
        )
        if not batch:
            break
        got.extend(batch)
    return got


def test_send_receive_peek_lock_complete(conn_str):
    with client(conn_str) as sb:
        with sb.get_queue_sender("q-basic") as sender:
            sender.send_messages(
                ServiceBusMessage(
                    "one", subject="s1", correlation_id="c1", content_type="text/plain"
                )
            )
            sender.send_messages([ServiceBusMessage("two"), ServiceBusMessage("three")])
            batch = sender.create_message_batch()
            batch.add_message(ServiceBusMessage("four"))
            sender.send_messages(batch)
        with sb.get_queue_receiver("q-basic") as receiver:
            msgs = drain(receiver, 4)
            assert [str(m) for m in msgs] == ["one", "two", "three", "four"]
            assert (
                msgs[0].subject == "s1"
                and msgs[0].correlation_id == "c1"
                and msgs[0].content_type == "text/plain"
            )
            assert msgs[0].sequence_number < msgs[3].sequence_number
            assert msgs[0].locked_until_utc > datetime.datetime.now(
                datetime.timezone.utc
            )
            for m in msgs:
                receiver.complete_message(m)
            assert receiver.receive_messages(max_wait_time=1) == []


def test_receive_and_delete(conn_str):
    with client(conn_str) as sb:
        with sb.get_queue_sender("q-basic") as sender:
            sender.send_messages([ServiceBusMessage(f"rd-{i}") for i in range(3)])
        with sb.get_queue_receiver(
            "q-basic", receive_mode=ServiceBusReceiveMode.RECEIVE_AND_DELETE
        ) as receiver:
            msgs = drain(receiver, 3)
            assert sorted(str(m) for m in msgs) == ["rd-0", "rd-1", "rd-2"]
        with sb.get_queue_receiver("q-basic") as receiver:
            assert receiver.peek_messages(max_message_count=10) == []


def test_abandon_defer_dead_letter(conn_str):
    with client(conn_str) as sb:
        with sb.get_queue_sender("q-settle") as sender:
            sender.send_messages(
                [
                    ServiceBusMessage("abandon"),
                    ServiceBusMessage("defer"),
                    ServiceBusMessage("dead"),
                ]
            )
        with sb.get_queue_receiver("q-settle") as receiver:
            msgs = {str(m): m for m in drain(receiver, 3)}
            receiver.abandon_message(msgs["abandon"])
            receiver.defer_message(msgs["defer"])
            receiver.dead_letter_message(
                msgs["dead"], reason="BadInput", error_description="field x is missing"
            )
            again = drain(receiver, 1)
            assert str(again[0]) == "abandon" and again[0].delivery_count == 1
            receiver.complete_message(again[0])
            deferred = receiver.receive_deferred_messages(
                [msgs["defer"].sequence_number]
            )
            assert [str(m) for m in deferred] == ["defer"]
            receiver.complete_message(deferred[0])
        with sb.get_queue_receiver(
            "q-settle", sub_queue=ServiceBusSubQueue.DEAD_LETTER
        ) as dlq:
            dead = drain(dlq, 1)
            assert str(dead[0]) == "dead"
            assert dead[0].dead_letter_reason == "BadInput"
            assert dead[0].dead_letter_error_description == "field x is missing"
            dlq.complete_message(dead[0])


def test_max_delivery_count_dead_letters(conn_str):
    with client(conn_str) as sb:
        with sb.get_queue_sender("q-maxdelivery") as sender:
            sender.send_messages(ServiceBusMessage("poison"))
        with sb.get_queue_receiver("q-maxdelivery") as receiver:
            for _ in range(2):
                m = drain(receiver, 1)[0]
                receiver.abandon_message(m)
            assert receiver.receive_messages(max_wait_time=1) == []
        with sb.get_queue_receiver(
            "q-maxdelivery", sub_queue=ServiceBusSubQueue.DEAD_LETTER
        ) as dlq:
            dead = drain(dlq, 1)[0]
            assert str(dead) == "poison"
            assert dead.dead_letter_reason == "MaxDeliveryCountExceeded"
            dlq.complete_message(dead)


def test_ttl_expiry_dead_letters(conn_str):
    with client(conn_str) as sb:
        with sb.get_queue_sender("q-ttl") as sender:
            sender.send_messages(
                ServiceBusMessage(
                    "short-lived", time_to_live=datetime.timedelta(seconds=1)
                )
            )
        with sb.get_queue_receiver(
            "q-ttl", sub_queue=ServiceBusSubQueue.DEAD_LETTER
        ) as dlq:
            dead = drain(dlq, 1, wait=15)
            assert [str(m) for m in dead] == ["short-lived"]
            assert dead[0].dead_letter_reason == "TTLExpiredException"
            dlq.complete_message(dead[0])


def test_duplicate_detection(conn_str):
    with client(conn_str) as sb:
        with sb.get_queue_sender("q-dup") as sender:
            for _ in range(3):
                sender.send_messages(ServiceBusMessage("same", message_id="dup-1"))
            sender.send_messages(ServiceBusMessage("other", message_id="dup-2"))
        with sb.get_queue_receiver("q-dup") as receiver:
            msgs = drain(receiver, 3, wait=3)
            assert sorted(m.message_id for m in msgs) == ["dup-1", "dup-2"]
            for m in msgs:
                receiver.complete_message(m)


def test_schedule_and_cancel(conn_str):
    with client(conn_str) as sb:
        soon = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(
            seconds=2
        )
        later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(
            hours=1
        )
        with sb.get_queue_sender("q-schedule") as sender:
            [seq_soon] = sender.schedule_messages(ServiceBusMessage("soon"), soon)
            [seq_later] = sender.schedule_messages(ServiceBusMessage("later"), later)
            assert seq_later > seq_soon
            sender.cancel_scheduled_messages(seq_later)
        with sb.get_queue_receiver("q-schedule") as receiver:
            got = drain(receiver, 1, wait=15)
            assert [str(m) for m in got] == ["soon"]
            assert got[0].enqueued_time_utc >= soon.replace(microsecond=0)
            receiver.complete_message(got[0])
            assert receiver.peek_messages(max_message_count=5) == []


def test_property_types_round_trip(conn_str):
    u = uuid.uuid4()
    ts = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    props = {
        "b": True,
        "f": False,
        "i": -7,
        "big": 2**31 - 1,
        "d": 1.5,
        "s": "text",
        "u": u,
        "t": ts,
        "raw": b"\x00\x01",
    }
    with client(conn_str) as sb:
        with sb.get_queue_sender("q-types") as sender:
            sender.send_messages(
                ServiceBusMessage(
                    b"\x00\xffbinary", application_properties=props, message_id="typed"
                )
            )
        with sb.get_queue_receiver("q-types") as receiver:
            [m] = drain(receiver, 1)
            got = {
                k.decode() if isinstance(k, bytes) else k: v
                for k, v in m.application_properties.items()
            }
            assert got["b"] is True and got["f"] is False
            assert got["i"] == -7 and got["big"] == 2**31 - 1 and got["d"] == 1.5
            assert got["s"] in ("text", b"text")
            assert got["u"] == u
            assert got["t"] == ts or got["t"] == int(ts.timestamp() * 1000)
            assert got["raw"] == b"\x00\x01"
            assert b"".join(m.body) == b"\x00\xffbinary"
            receiver.complete_message(m)


def test_sql_and_correlation_filters_with_python_values(conn_str):
    with client(conn_str) as sb:
        with sb.get_topic_sender("t-filters") as sender:
            sender.send_messages(
                ServiceBusMessage("flagged", application_properties={"flag": True})
            )
            sender.send_messages(
                ServiceBusMessage(
                    "red", application_properties={"color": "red", "flag": False}
                )
            )
        with sb.get_subscription_receiver("t-filters", "all") as r:
            msgs = drain(r, 2)
            assert sorted(str(m) for m in msgs) == ["flagged", "red"]
            for m in msgs:
                r.complete_message(m)
        with sb.get_subscription_receiver("t-filters", "flagged") as r:
            msgs = drain(r, 2, wait=3)
            assert [str(m) for m in msgs] == ["flagged"]
            r.complete_message(msgs[0])
        with sb.get_subscription_receiver("t-filters", "red") as r:
            msgs = drain(r, 2, wait=3)
            assert [str(m) for m in msgs] == ["red"]
            r.complete_message(msgs[0])


def test_large_messages(conn_str):
    with client(conn_str) as sb:
        with sb.get_queue_sender("q-large") as sender:
            sender.send_messages(ServiceBusMessage(b"x" * 200_000))
            with pytest.raises(MessageSizeExceededError):
                sender.send_messages(ServiceBusMessage(b"y" * 262_144))
        with sb.get_queue_receiver("q-large") as receiver:
            [m] = drain(receiver, 1)
            assert len(b"".join(m.body)) == 200_000
            receiver.complete_message(m)


def test_five_thousand_messages_on_one_connection(conn_str):
    total = 5000
    with client(conn_str) as sb:
        with sb.get_queue_sender("q-bulk") as sender:
            for start in range(0, total, 250):
                sender.send_messages(
                    [ServiceBusMessage(str(i)) for i in range(start, start + 250)]
                )
        with sb.get_queue_receiver("q-bulk", prefetch_count=100) as receiver:
            seen = 0
            while seen < total:
                batch = receiver.receive_messages(
                    max_message_count=100, max_wait_time=10
                )
                assert batch, f"stalled after {seen} messages"
                for m in batch:
                    receiver.complete_message(m)
                seen += len(batch)
            assert seen == total


def test_unknown_entity(conn_str):
    # Azure refuses the put-token with 404; this SDK reports that as an authentication error naming the entity.
    with client(conn_str) as sb:
        with pytest.raises(ServiceBusAuthenticationError):
            with sb.get_queue_sender("no-such-queue") as sender:
                sender.send_messages(ServiceBusMessage("x"))
