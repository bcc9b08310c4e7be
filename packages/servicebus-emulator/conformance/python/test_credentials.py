"""Shared Access Signature checks, seen through the official Python client: wrong keys, rights per policy, and a
token issued for another entity are refused as Azure refuses them."""

import base64
import hashlib
import hmac
import time
import urllib.parse

import pytest
from azure.servicebus import ServiceBusClient, ServiceBusMessage
from azure.servicebus.exceptions import (
    ServiceBusAuthenticationError,
    ServiceBusAuthorizationError,
    ServiceBusError,
)


def with_policy(conn_str, name, key):
    parts = dict(p.split("=", 1) for p in conn_str.strip(";").split(";"))
    return f"Endpoint={parts['Endpoint']};SharedAccessKeyName={name};SharedAccessKey={key};UseDevelopmentEmulator=true"


def sas_token(resource, name, key, ttl=300):
    """Signs a token the way the Service Bus documentation describes (HMAC-SHA256 over URL-encoded URI + expiry)."""
    expiry = str(int(time.time()) + ttl)
    encoded = urllib.parse.quote_plus(resource)
    sig = base64.b64encode(
        hmac.new(key.encode(), f"{encoded}\n{expiry}".encode(), hashlib.sha256).digest()
    )
    return f"SharedAccessSignature sr={encoded}&sig={urllib.parse.quote_plus(sig)}&se={expiry}&skn={name}"


def test_wrong_key_is_refused(conn_str):
    bad = with_policy(conn_str, "RootManageSharedAccessKey", "V1JPTkc=")
    with ServiceBusClient.from_connection_string(bad, retry_total=0) as sb:
        with pytest.raises(ServiceBusAuthenticationError):
            with sb.get_queue_sender("q-basic") as sender:
                sender.send_messages(ServiceBusMessage("x"))


def test_unknown_policy_is_refused(conn_str):
    bad = with_policy(conn_str, "nobody", "SAS_KEY_VALUE")
    with ServiceBusClient.from_connection_string(bad, retry_total=0) as sb:
        with pytest.raises(ServiceBusAuthenticationError):
            with sb.get_queue_receiver("q-basic", max_wait_time=1) as receiver:
                receiver.receive_messages(max_wait_time=1)


def test_send_only_policy_sends_but_cannot_receive(conn_str):
    send_only = with_policy(conn_str, "sendonly", "c2VuZC1vbmx5LWtleQ==")
    with ServiceBusClient.from_connection_string(send_only, retry_total=0) as sb:
        with sb.get_queue_sender("q-settle") as sender:
            sender.send_messages(ServiceBusMessage("sent with Send rights"))
        with pytest.raises(ServiceBusAuthorizationError):
            with sb.get_queue_receiver("q-settle", max_wait_time=1) as receiver:
                receiver.receive_messages(max_wait_time=1)
    listen_only = with_policy(conn_str, "listenonly", "bGlzdGVuLW9ubHkta2V5")
    with ServiceBusClient.from_connection_string(listen_only, retry_total=0) as sb:
        with pytest.raises(ServiceBusAuthorizationError):
            with sb.get_queue_sender("q-settle") as sender:
                sender.send_messages(ServiceBusMessage("x"))
        with sb.get_queue_receiver("q-settle", max_wait_time=5) as receiver:
            msgs = receiver.receive_messages(max_wait_time=5)
            assert [str(m) for m in msgs] == ["sent with Send rights"]
            receiver.complete_message(msgs[0])


def test_token_for_another_entity_is_refused(conn_str, sb_parts):
    host = sb_parts["Endpoint"].replace("sb://", "").strip("/")
    token = sas_token(
        f"sb://{host}/q-basic", "RootManageSharedAccessKey", "SAS_KEY_VALUE"
    )
    own = f"Endpoint={sb_parts['Endpoint']};SharedAccessSignature={token};UseDevelopmentEmulator=true"
    with ServiceBusClient.from_connection_string(own, retry_total=0) as sb:
        with sb.get_queue_sender("q-basic") as sender:
            sender.send_messages(ServiceBusMessage("token for q-basic"))
        with pytest.raises(ServiceBusAuthenticationError):
            with sb.get_queue_sender("q-settle") as sender:
                sender.send_messages(ServiceBusMessage("x"))
        with sb.get_queue_receiver("q-basic", max_wait_time=5) as receiver:
            msgs = receiver.receive_messages(max_wait_time=5)
            assert [str(m) for m in msgs] == ["token for q-basic"]
            receiver.complete_message(msgs[0])


def test_session_receiver_refused_without_sessions(conn_str):
    with ServiceBusClient.from_connection_string(conn_str, retry_total=0) as sb:
        with pytest.raises(ServiceBusError, match="does not require sessions"):
            with sb.get_queue_receiver(
                "q-basic", session_id="s1", max_wait_time=1
            ) as receiver:
                receiver.receive_messages(max_wait_time=1)
