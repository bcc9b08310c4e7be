"""Throughput driver for `npm run bench --only servicebus-sdks`: sends N messages to a queue in batches of 100 with the
official Python SDK, then receives and completes them; prints one JSON line of rates. Not collected by pytest."""

import json
import sys
import time

from azure.servicebus import ServiceBusClient, ServiceBusMessage


def main(conn_str: str, queue: str, n: int) -> None:
    with ServiceBusClient.from_connection_string(conn_str, retry_total=0) as sb:
        with sb.get_queue_sender(queue) as sender:
            t0 = time.perf_counter()
            for start in range(0, n, 100):
                sender.send_messages(
                    [
                        ServiceBusMessage(f"m{i}")
                        for i in range(start, min(n, start + 100))
                    ]
                )
            send_s = time.perf_counter() - t0
        with sb.get_queue_receiver(queue, prefetch_count=100) as receiver:
            t0 = time.perf_counter()
            seen = 0
            while seen < n:
                batch = receiver.receive_messages(
                    max_message_count=100, max_wait_time=10
                )
                if not batch:
                    raise SystemExit(f"stalled after {seen} of {n} messages")
                for m in batch:
                    receiver.complete_message(m)
                seen += len(batch)
            recv_s = time.perf_counter() - t0
    print(
        json.dumps(
            {"n": n, "sendPerSec": n / send_s, "receiveCompletePerSec": n / recv_s}
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
