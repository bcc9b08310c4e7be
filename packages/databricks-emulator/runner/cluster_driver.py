#!/usr/bin/env python3
"""The Spark driver JVM of the local clusters (the TypeScript emulator starts one; see src/clusters/).

    .venv/bin/python packages/databricks-emulator/runner/cluster_driver.py --master local[N]

Owns one SparkContext (local[N] + Delta, every port on 127.0.0.1, FAIR scheduling) for its whole life. It runs no
notebook itself: as on a Databricks driver, where each notebook gets its own Python REPL process attached to the
driver's JVM, every task is a separate `run_notebook.py` process that attaches to this JVM through a Py4J gateway
server of its own (PYSPARK_GATEWAY_PORT/PYSPARK_GATEWAY_SECRET, handed to the emulator on the protocol channel and to
the task process in its environment only) and works in a SparkSession of its own. So a notebook that kills its
process, raises or exhausts its Python memory fails only itself, tasks run side by side, and no JVM starts per task.

A gateway per task, closed when the task ends: a gateway server keeps every JVM object a client has referenced until
that client releases it, and a notebook process that exits (or is killed) releases nothing. On one shared gateway
each task left its DataFrames and their executed query plans in the driver's heap for good (2.6 MB for 24 small
queries); closing the task's own server drops them all. Requests are JSON lines on stdin; replies are JSON lines on
the stdout the process started with:

    -> {"event": "ready", "spark_context_id": "...", "pid": 123}
    <- {"op": "open", "id": 7}      a gateway for one task
    -> {"event": "opened", "id": 7, "gateway_port": 4567, "gateway_secret": "..."}  (or "error": "...")
    <- {"op": "close", "id": 7}     the task ended: shut its gateway down
    <- {"op": "cancel", "group": "task-42"}          cancel the Spark jobs of a task (cancelled, timed out, crashed)
    <- {"op": "ping", "id": 7}  -> {"event": "pong", "id": 7, "healthy": true}   does Spark still answer?
    <- {"op": "stop"} or end of stdin: stop Spark and exit 0.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_notebook  # noqa: E402  (the runner's local Spark session)

sys.path.pop(0)


class Protocol:
    """Reply channel: a private copy of the stdout the driver started with, so Spark's prints cannot corrupt it."""

    def __init__(self) -> None:
        self._out = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
        # From here on fd 1 is the driver log (fd 2): stray prints of Spark or Python land there.
        os.dup2(2, 1)

    def send(self, message: dict[str, Any]) -> None:
        self._out.write(json.dumps(message) + "\n")
        self._out.flush()


def healthy(spark: Any) -> bool:
    try:
        return spark.range(1).count() == 1
    except Exception:  # noqa: BLE001 - any failure means the JVM side is gone
        return False


def spark_context_id(spark: Any) -> str:
    # local-<epoch ms>: unique per JVM, numeric like Databricks' spark_context_id.
    digits = re.sub(r"\D", "", spark.sparkContext.applicationId or "")
    return digits or str(os.getpid())


class TaskGateways:
    """Py4J gateway servers of the running tasks (Spark's own Py4JServer: loopback, a fresh secret each)."""

    def __init__(self, spark: Any) -> None:
        self._spark = spark
        self._servers: dict[int, Any] = {}

    def open(self, task: int) -> dict[str, Any]:
        jvm = self._spark.sparkContext._jvm
        server = jvm.org.apache.spark.api.python.Py4JServer(self._spark.sparkContext._jsc.getConf())
        server.start()
        self._servers[task] = server
        return {"gateway_port": server.getListeningPort(), "gateway_secret": server.secret()}

    def close(self, task: int) -> None:
        server = self._servers.pop(task, None)
        if server is None:
            return
        with contextlib.suppress(Exception):
            server.shutdown()
        with contextlib.suppress(Exception):  # the driver's own reference to it
            self._spark.sparkContext._gateway.detach(server)

    def close_all(self) -> None:
        for task in list(self._servers):
            self.close(task)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--master", default="local[1]")
    args = parser.parse_args(argv)
    proto = Protocol()
    os.environ["ORBITER_SPARK_MASTER"] = args.master
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    # Tasks of different clusters share the cores fairly (each task names its cluster's pool).
    os.environ["ORBITER_SPARK_SCHEDULER_MODE"] = "FAIR"
    spark = run_notebook.build_spark("orbiter-local-driver")
    gateways = TaskGateways(spark)
    proto.send({"event": "ready", "spark_context_id": spark_context_id(spark), "pid": os.getpid()})
    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            request = json.loads(line)
            op = request.get("op")
            if op == "stop":
                break
            if op == "open":
                task = int(request.get("id"))
                try:
                    proto.send({"event": "opened", "id": task, **gateways.open(task)})
                except Exception as e:  # noqa: BLE001 - the task fails with the reason; the driver stays up
                    proto.send({"event": "opened", "id": task, "error": f"{type(e).__name__}: {e}"[:500]})
            elif op == "close":
                gateways.close(int(request.get("id")))
            elif op == "cancel":
                with contextlib.suppress(Exception):
                    spark.sparkContext.cancelJobGroup(str(request.get("group")))
            elif op == "ping":
                ok = healthy(spark)
                proto.send({"event": "pong", "id": request.get("id"), "healthy": ok})
                if not ok:
                    return 3
    finally:
        gateways.close_all()
        with contextlib.suppress(Exception):
            spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
