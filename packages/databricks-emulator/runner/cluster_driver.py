#!/usr/bin/env python3
"""The driver of one local job cluster (the TypeScript emulator starts one per cluster; see src/clusters/).

    .venv/bin/python packages/databricks-emulator/runner/cluster_driver.py --cluster-id <id> --master local[N]

Owns one SparkSession (local[N] + Delta, bound to 127.0.0.1) for its whole life and runs notebook tasks one at a
time, as a Databricks job cluster's driver does. Requests are JSON lines on stdin; replies are JSON lines on the
stdout the process started with (the notebooks' own stdout/stderr go to each task's log file):

    <- {"op": "run", "id": 1, "notebook": "/abs/nb.py", "params": {...}, "result": "/abs/r.json", "log": "/abs/t.log",
        "env": {"PYTHONPATH": "..."}}
    -> {"event": "ready", "spark_context_id": "...", "pid": 123}           (once, when Spark is up)
    -> {"event": "done", "id": 1, "healthy": true}                        (result file written, same contract as
                                                                            run_notebook.py)
    <- {"op": "stop"} or end of stdin: stop Spark and exit 0.

Each task gets a fresh namespace and dbutils, its own SparkSession (spark.newSession(): own temp views, SQL conf and
UDFs over the shared SparkContext), its environment and sys.path only for its duration, and modules imported from
its libraries or notebook folder are forgotten afterwards, so nothing of one task is visible to the next. After a
task the driver checks Spark still answers; if not it replies healthy=false and exits, and the emulator replaces it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
import traceback
from typing import Any, Iterator

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_notebook  # noqa: E402  (the runner's notebook format, dbutils and result contract)

sys.path.pop(0)


class Protocol:
    """Reply channel: a private copy of the stdout the driver started with, so notebook prints cannot corrupt it."""

    def __init__(self) -> None:
        self._out = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
        # From here on fd 1 is the driver log (fd 2): stray prints of Spark or Python land there.
        os.dup2(2, 1)

    def send(self, message: dict[str, Any]) -> None:
        self._out.write(json.dumps(message) + "\n")
        self._out.flush()


@contextlib.contextmanager
def task_output(log_path: str) -> Iterator[None]:
    """fd 1/2 and sys.stdout/stderr point at the task's log for the task's duration."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = (os.dup(1), os.dup(2))
    saved_streams = (sys.stdout, sys.stderr)
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.dup2(log, 1)
        os.dup2(log, 2)
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        sys.stdout, sys.stderr = saved_streams
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, log):
            os.close(fd)


@contextlib.contextmanager
def task_environment(env: dict[str, str], extra_paths: list[str]) -> Iterator[None]:
    """The task's env vars and import paths, then forget them and every module loaded from those paths."""
    old_env = dict(os.environ)
    old_path = list(sys.path)
    old_cwd = os.getcwd()
    before = set(sys.modules)
    os.environ.update(env)
    sys.path[:0] = extra_paths
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(old_env)
        sys.path[:] = old_path
        with contextlib.suppress(OSError):
            os.chdir(old_cwd)
        roots = tuple(os.path.join(os.path.abspath(p), "") for p in extra_paths)
        for name in set(sys.modules) - before:
            origin = getattr(sys.modules.get(name), "__file__", None) or ""
            if not origin or os.path.abspath(origin).startswith(roots):
                sys.modules.pop(name, None)


def task_session(spark: Any) -> Any:
    """A SparkSession of its own for one task (temp views, SQL conf, UDFs), made the active one."""
    from pyspark.sql import SparkSession

    session = spark.newSession()
    with contextlib.suppress(Exception):
        session._jvm.SparkSession.setActiveSession(session._jsparkSession)
        SparkSession._activeSession = session
    return session


def clean_after(spark: Any, session: Any) -> None:
    """What a task leaves on the shared context: its streams, jobs, cached data and global temp views."""
    with contextlib.suppress(Exception):
        for query in session.streams.active:
            query.stop()
    with contextlib.suppress(Exception):
        spark.sparkContext.cancelAllJobs()
    with contextlib.suppress(Exception):
        spark.catalog.clearCache()
    with contextlib.suppress(Exception):
        for table in spark.catalog.listTables("global_temp"):
            spark.catalog.dropGlobalTempView(table.name)
    with contextlib.suppress(Exception):
        for table in session.catalog.listTables():
            if table.isTemporary:
                session.catalog.dropTempView(table.name)


def healthy(spark: Any) -> bool:
    try:
        return spark.range(1).count() == 1
    except Exception:  # noqa: BLE001 - any failure means the JVM side is gone
        return False


def run_task(spark: Any, request: dict[str, Any]) -> None:
    result: dict[str, Any] = {"result_state": "FAILED", "notebook_output": None, "error": None, "error_trace": None}
    env = {str(k): str(v) for k, v in (request.get("env") or {}).items()}
    extra_paths = [p for p in env.pop("PYTHONPATH", "").split(os.pathsep) if p]
    notebook = os.path.abspath(str(request["notebook"]))
    session = None
    with task_output(str(request["log"])):
        try:
            with task_environment(env, [os.path.dirname(notebook), *extra_paths]):
                params = request.get("params") or {}
                if not isinstance(params, dict):
                    raise ValueError("params must be a JSON object")
                params = {str(k): "" if v is None else str(v) for k, v in params.items()}
                if not os.path.isfile(notebook):
                    raise FileNotFoundError(f"notebook not found: {request['notebook']}")
                session = task_session(spark)
                display_dir = os.path.join(os.path.dirname(os.path.abspath(str(request["result"]))), "display")
                output = run_notebook.Runner(session, params, display_dir).run(notebook)
                result.update(result_state="SUCCESS", notebook_output=output)
        except BaseException as exc:  # noqa: BLE001 - every failure of the notebook becomes a FAILED result
            if isinstance(exc, SystemExit) and exc.code in (0, None):
                result.update(result_state="SUCCESS")
            else:
                result["error"] = f"{type(exc).__name__}: {exc}"
                result["error_trace"] = "".join(traceback.format_exception(exc))
                print(result["error_trace"], file=sys.stderr)
        finally:
            if session is not None:
                clean_after(spark, session)
    run_notebook.write_result(str(request["result"]), result)


def spark_context_id(spark: Any) -> str:
    # local-<epoch ms>: unique per JVM, numeric like Databricks' spark_context_id.
    digits = re.sub(r"\D", "", spark.sparkContext.applicationId or "")
    return digits or str(os.getpid())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cluster-id", required=True)
    parser.add_argument("--master", default="local[1]")
    args = parser.parse_args(argv)
    proto = Protocol()
    os.environ["ORBITER_SPARK_MASTER"] = args.master
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    spark = run_notebook.build_spark(f"orbiter-cluster-{args.cluster_id}")
    proto.send({"event": "ready", "spark_context_id": spark_context_id(spark), "pid": os.getpid()})
    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            request = json.loads(line)
            if request.get("op") == "stop":
                break
            run_task(spark, request)
            ok = healthy(spark)
            proto.send({"event": "done", "id": request.get("id"), "healthy": ok})
            if not ok:
                return 3
    finally:
        with contextlib.suppress(Exception):
            spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
