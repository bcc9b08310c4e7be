#!/usr/bin/env python3
"""Local Databricks notebook runner (the TypeScript Databricks emulator spawns it; tests use it directly).

    .venv/bin/python local/databricks/runner/run_notebook.py --notebook <path.py> --params '<json object>' --result <out.json>

Runs a Databricks source-format notebook (`# Databricks notebook source`, cells split by `# COMMAND ----------`)
in one namespace seeded with `spark` (local[2] + Delta from .orbiter/jars), `dbutils` (offline shim), `display`
and `displayHTML`. `%sql` cells go through spark.sql, `%run` runs another notebook inline, `%md` is skipped.
Writes {"result_state": "SUCCESS"|"FAILED", "notebook_output": <exit value or null>, "error": str|null,
"error_trace": str|null} to --result and exits 0 on SUCCESS, 1 on FAILED. display() output is saved in
<result dir>/display/ (JSON rows, PNG figures, HTML).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import linecache
import os
import re
import shutil
import subprocess
import sys
import traceback
from dataclasses import dataclass
from typing import Any

HEADER = "# Databricks notebook source"
SEPARATOR = "# COMMAND ----------"
REPO_ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
DISPLAY_ROW_LIMIT = 1000


# --- notebook source format ---------------------------------------------------------------------------------
@dataclass
class Cell:
    index: int
    kind: str  # python | md | sql | run | pip | sh | unknown magic
    source: str
    first_line: int  # 1-based line of the cell's first line in the file


def parse_notebook(text: str) -> list[Cell]:
    lines = text.splitlines()
    if not lines or lines[0].strip() != HEADER:
        raise NotebookFormatError(f"not a Databricks source notebook: first line must be {HEADER!r}")
    cells: list[Cell] = []
    chunk: list[str] = []
    start = 2

    def flush(first: int) -> None:
        lead = 0
        while lead < len(chunk) and not chunk[lead].strip():
            lead += 1
        body = "\n".join(chunk[lead:]).rstrip()
        if body.strip():
            cells.append(_cell(len(cells), body, first + lead))

    for lineno, line in enumerate(lines[1:], start=2):
        if line.strip() == SEPARATOR:
            flush(start)
            chunk, start = [], lineno + 1
        else:
            chunk.append(line)
    flush(start)
    return cells


def _cell(index: int, body: str, first_line: int) -> Cell:
    stripped = body
    code_lines = [ln for ln in stripped.splitlines() if ln.strip()]
    if code_lines and all(ln.startswith("# MAGIC") for ln in code_lines):
        magic = "\n".join(re.sub(r"^# MAGIC ?", "", ln) for ln in stripped.splitlines())
        m = re.match(r"\s*%(\w+)\s*", magic)
        if m:
            return Cell(index, m.group(1).lower(), magic[m.end() :], first_line)
        return Cell(index, "md", magic, first_line)
    return Cell(index, "python", stripped, first_line)


class NotebookFormatError(ValueError):
    pass


# --- dbutils shim -------------------------------------------------------------------------------------------
class NotebookExit(Exception):
    def __init__(self, value: str):
        super().__init__(value)
        self.value = value


class InputWidgetNotDefined(Exception):
    pass


class Widgets:
    """Job parameters (--params) win over the defaults a notebook declares, as on Databricks."""

    def __init__(self, params: dict[str, str]):
        self._params = params
        self._defaults: dict[str, str] = {}

    def text(self, name: str, defaultValue: str = "", label: str | None = None) -> None:  # noqa: N803
        self._defaults[name] = "" if defaultValue is None else str(defaultValue)

    def dropdown(self, name: str, defaultValue: str, choices: list[str], label: str | None = None) -> None:  # noqa: N803
        if defaultValue not in choices:
            raise ValueError(f"widget {name}: default {defaultValue!r} not in choices {choices}")
        self._defaults[name] = defaultValue
        if name in self._params and self._params[name] not in choices:
            raise ValueError(f"widget {name}: value {self._params[name]!r} not in choices {choices}")

    combobox = text

    def multiselect(self, name: str, defaultValue: str, choices: list[str], label: str | None = None) -> None:  # noqa: N803
        self._defaults[name] = defaultValue

    def get(self, name: str) -> str:
        if name in self._params:
            return self._params[name]
        if name in self._defaults:
            return self._defaults[name]
        raise InputWidgetNotDefined(f"No input widget named {name} is defined")

    def getArgument(self, name: str, defaultValue: str | None = None) -> str | None:  # noqa: N802,N803
        try:
            return self.get(name)
        except InputWidgetNotDefined:
            return defaultValue

    def getAll(self) -> dict[str, str]:  # noqa: N802
        return {**self._defaults, **self._params}

    def remove(self, name: str) -> None:
        self._defaults.pop(name, None)

    def removeAll(self) -> None:  # noqa: N802
        self._defaults.clear()


@dataclass
class FileInfo:
    path: str
    name: str
    size: int
    modificationTime: int  # noqa: N815


def _local(path: str) -> str:
    for prefix in ("file://", "file:", "dbfs:"):
        if path.startswith(prefix):
            return path[len(prefix) :]
    return path


class Fs:
    """dbutils.fs on local paths (file:/ and dbfs:/ prefixes are stripped)."""

    def ls(self, path: str) -> list[FileInfo]:
        p = _local(path)
        out = []
        for name in sorted(os.listdir(p)):
            full = os.path.join(p, name)
            st = os.stat(full)
            is_dir = os.path.isdir(full)
            out.append(
                FileInfo(
                    full + ("/" if is_dir else ""),
                    name + ("/" if is_dir else ""),
                    0 if is_dir else st.st_size,
                    int(st.st_mtime * 1000),
                )
            )
        return out

    def mkdirs(self, path: str) -> bool:
        os.makedirs(_local(path), exist_ok=True)
        return True

    def put(self, path: str, contents: str, overwrite: bool = False) -> bool:
        p = _local(path)
        if os.path.exists(p) and not overwrite:
            raise FileExistsError(p)
        os.makedirs(os.path.dirname(p) or ".", exist_ok=True)
        with open(p, "w", encoding="utf-8") as fh:
            fh.write(contents)
        return True

    def head(self, path: str, maxBytes: int = 65536) -> str:  # noqa: N803
        with open(_local(path), "rb") as fh:
            return fh.read(maxBytes).decode("utf-8", errors="replace")

    def rm(self, path: str, recurse: bool = False) -> bool:
        p = _local(path)
        if not os.path.exists(p):
            return False
        if os.path.isdir(p):
            if not recurse:
                raise IsADirectoryError(p)
            shutil.rmtree(p)
        else:
            os.remove(p)
        return True

    def cp(self, src: str, dst: str, recurse: bool = False) -> bool:
        s, d = _local(src), _local(dst)
        if os.path.isdir(s):
            if not recurse:
                raise IsADirectoryError(s)
            shutil.copytree(s, d, dirs_exist_ok=True)
        else:
            os.makedirs(os.path.dirname(d) or ".", exist_ok=True)
            shutil.copy2(s, d)
        return True

    def mv(self, src: str, dst: str, recurse: bool = False) -> bool:
        shutil.move(_local(src), _local(dst))
        return True


class Secrets:
    """secrets.get(scope, key) reads env DATABRICKS_SECRET_<SCOPE>_<KEY> (upper-cased, non-alphanumerics -> _),
    then env <KEY>."""

    @staticmethod
    def env_name(scope: str, key: str) -> str:
        return re.sub(r"[^A-Za-z0-9]", "_", f"DATABRICKS_SECRET_{scope}_{key}").upper()

    def get(self, scope: str, key: str) -> str:
        for name in (self.env_name(scope, key), key):
            if name in os.environ:
                return os.environ[name]
        raise KeyError(f"secret {scope}/{key} not found (set {self.env_name(scope, key)})")

    def list(self, scope: str) -> list:
        return []

    def listScopes(self) -> list:  # noqa: N802
        return []


class NotebookUtils:
    def __init__(self, runner: "Runner"):
        self._runner = runner

    def exit(self, value: Any) -> None:
        raise NotebookExit("" if value is None else str(value))

    def run(self, path: str, timeout_seconds: int = 0, arguments: dict | None = None) -> str | None:
        """Runs another notebook in its own namespace (same Spark) and returns its exit value."""
        child = Runner(self._runner.spark, {k: str(v) for k, v in (arguments or {}).items()}, self._runner.display_dir)
        return child.run(self._runner.resolve(path))


class DBUtils:
    def __init__(self, runner: "Runner", params: dict[str, str]):
        self.widgets = Widgets(params)
        self.notebook = NotebookUtils(runner)
        self.fs = Fs()
        self.secrets = Secrets()


# --- display ------------------------------------------------------------------------------------------------
class Display:
    def __init__(self, directory: str | None):
        self.directory = directory
        self.count = 0

    def _path(self, ext: str) -> str | None:
        if not self.directory:
            return None
        os.makedirs(self.directory, exist_ok=True)
        self.count += 1
        return os.path.join(self.directory, f"display_{self.count:03d}.{ext}")

    def __call__(self, obj: Any = None, *args: Any, **kwargs: Any) -> None:
        if obj is None:
            return
        if hasattr(obj, "savefig"):  # matplotlib Figure
            path = self._path("png")
            if path:
                obj.savefig(path, bbox_inches="tight")
            return
        if hasattr(obj, "schema") and hasattr(obj, "limit"):  # Spark DataFrame
            if getattr(obj, "isStreaming", False):
                print("display(): streaming DataFrame not rendered locally")
                return
            rows = [r.asDict(recursive=True) for r in obj.limit(DISPLAY_ROW_LIMIT).collect()]
            payload = {"columns": obj.columns, "rows": rows}
            path = self._path("json")
            if path:
                with open(path, "w", encoding="utf-8") as fh:
                    json.dump(payload, fh, default=str, indent=1)
            return
        if hasattr(obj, "to_json") and hasattr(obj, "columns"):  # pandas
            path = self._path("json")
            if path:
                with open(path, "w", encoding="utf-8") as fh:
                    fh.write(obj.to_json(orient="split", default_handler=str))
            return
        path = self._path("txt")
        if path:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(repr(obj))

    def html(self, content: str) -> None:
        path = self._path("html")
        if path:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(content)


# --- runner -------------------------------------------------------------------------------------------------
class Runner:
    def __init__(self, spark: Any, params: dict[str, str], display_dir: str | None):
        self.spark = spark
        self.display_dir = display_dir
        self.dbutils = DBUtils(self, params)
        self.display = Display(display_dir)
        self.namespace: dict[str, Any] = {
            "__name__": "__main__",
            "spark": spark,
            "sc": getattr(spark, "sparkContext", None),
            "dbutils": self.dbutils,
            "display": self.display,
            "displayHTML": self.display.html,
        }
        self.current_dir = os.getcwd()

    def resolve(self, path: str) -> str:
        p = path if os.path.isabs(path) else os.path.join(self.current_dir, path)
        if not os.path.exists(p) and os.path.exists(p + ".py"):
            p += ".py"
        return os.path.normpath(p)

    def run(self, notebook_path: str) -> str | None:
        """Executes the notebook; returns the dbutils.notebook.exit value (None when it ends without one)."""
        try:
            self.exec_file(notebook_path)
        except NotebookExit as done:
            return done.value
        return None

    def exec_file(self, notebook_path: str) -> None:
        with open(notebook_path, encoding="utf-8") as fh:
            cells = parse_notebook(fh.read())
        previous = self.current_dir
        self.current_dir = os.path.dirname(os.path.abspath(notebook_path))
        try:
            for cell in cells:
                self.exec_cell(notebook_path, cell)
        finally:
            self.current_dir = previous

    def exec_cell(self, notebook_path: str, cell: Cell) -> None:
        if cell.kind == "python":
            filename = f"{notebook_path} [cell {cell.index + 1}]"
            source = "\n" * (cell.first_line - 1) + cell.source  # line numbers match the notebook file
            linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
            exec(compile(source, filename, "exec"), self.namespace)
        elif cell.kind == "sql":
            result = None
            for statement in [s for s in _split_sql(cell.source) if s.strip()]:
                result = self.spark.sql(statement)
            if result is not None:
                self.namespace["_sqldf"] = result
                self.display(result)
        elif cell.kind == "run":
            target = cell.source.strip().splitlines()[0].strip().strip('"')
            self.exec_file(self.resolve(target))
        elif cell.kind in ("md", "pip"):
            return  # markdown; %pip: the environment is installed by scripts/setup-python.sh
        elif cell.kind == "sh":
            subprocess.run(["bash", "-c", cell.source], check=True, cwd=self.current_dir)
        else:
            raise NotebookFormatError(f"cell {cell.index + 1}: unsupported magic %{cell.kind}")


def _split_sql(text: str) -> list[str]:
    # Statements split on ';' at line ends (string literals containing ';\n' are not supported).
    return re.split(r";\s*(?:\n|$)", text)


ATTACH_ENV = "ORBITER_SPARK_ATTACH"  # job group of the task; set with PYSPARK_GATEWAY_PORT/SECRET by the emulator


def attached() -> bool:
    return bool(os.environ.get(ATTACH_ENV))


def attach_spark() -> Any:
    """A SparkSession of this task's own on the running cluster driver's JVM (runner/cluster_driver.py).

    PySpark connects to the JVM named by PYSPARK_GATEWAY_PORT/SECRET instead of launching one; the SparkContext
    wraps the driver's existing one (a JVM holds one), and the session is a new one (own temp views, SQL conf and
    UDFs), made the default so the notebook's SparkSession.builder.getOrCreate() returns it. The task's Spark jobs
    carry its job group, so the emulator can cancel them, and run in its cluster's FAIR pool.
    """
    from pyspark import SparkConf, SparkContext
    from pyspark.java_gateway import launch_gateway
    from pyspark.sql import SparkSession

    gateway = launch_gateway()
    jvm = gateway.jvm
    jsc = jvm.org.apache.spark.api.java.JavaSparkContext.fromSparkContext(
        jvm.org.apache.spark.SparkContext.getOrCreate()
    )
    sc = SparkContext(conf=SparkConf(_jconf=jsc.getConf()), gateway=gateway, jsc=jsc)
    sc.setJobGroup(os.environ[ATTACH_ENV], f"notebook task {os.environ[ATTACH_ENV]}", interruptOnCancel=True)
    pool = os.environ.get("ORBITER_SPARK_POOL")
    if pool:
        sc.setLocalProperty("spark.scheduler.pool", pool)
    shared = SparkSession(sc)
    session = SparkSession(sc, jsparkSession=shared._jsparkSession.newSession())
    SparkSession._instantiatedSession = session
    SparkSession._activeSession = session
    with contextlib.suppress(Exception):  # the JVM's active session of this thread, for code that asks for it
        session._jvm.SparkSession.setActiveSession(session._jsparkSession)
    return session


def release_spark(spark: Any) -> None:
    """End the task's use of Spark: an attached task leaves the shared driver running, stopping only its own work."""
    if not attached():
        spark.stop()
        return
    for query in spark.streams.active:
        query.stop()
    spark.sparkContext.cancelJobGroup(os.environ[ATTACH_ENV])


def spark_session_module() -> Any:
    # The runner's own local Spark + Delta session comes from the repository's spark_session.py, loaded as a private
    # module: putting the orbiter_lake package on sys.path would hide the job's wheel (the notebooks must import the
    # package from the wheel the job installs, as on Databricks).
    import importlib.util

    path = os.path.join(REPO_ROOT, "notebooks", "orbiter_lake", "spark_session.py")
    spec = importlib.util.spec_from_file_location("_orbiter_runner_spark_session", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_spark(app_name: str = "orbiter-notebook-runner", short_lived: bool = False) -> Any:
    module = spark_session_module()
    if attached():
        module.ensure_supported_java()
        return attach_spark()
    return module.local_spark(app_name, short_lived=short_lived)


def write_result(path: str, result: dict[str, Any]) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(result, fh, indent=2)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notebook", required=True)
    parser.add_argument("--params", default="{}", help="JSON object of job/task parameters (strings)")
    parser.add_argument("--result", required=True)
    args = parser.parse_args(argv)

    result: dict[str, Any] = {"result_state": "FAILED", "notebook_output": None, "error": None, "error_trace": None}
    spark = None
    try:
        params = json.loads(args.params or "{}")
        if not isinstance(params, dict):
            raise ValueError("--params must be a JSON object")
        params = {str(k): "" if v is None else str(v) for k, v in params.items()}
        notebook = os.path.abspath(args.notebook)
        if not os.path.isfile(notebook):
            raise FileNotFoundError(f"notebook not found: {args.notebook}")
        nb_dir = os.path.dirname(notebook)
        sys.path.insert(
            0, nb_dir
        )  # the notebook's folder is importable, as on Databricks (deployed: its synced siblings)
        spark = build_spark(short_lived=True)  # a JVM of its own for this one task
        display_dir = os.path.join(os.path.dirname(os.path.abspath(args.result)), "display")
        runner = Runner(spark, params, display_dir)
        output = runner.run(notebook)
        result.update(result_state="SUCCESS", notebook_output=output)
    except BaseException as exc:  # noqa: BLE001 - every failure becomes a FAILED result
        if isinstance(exc, KeyboardInterrupt):
            result["error"] = "KeyboardInterrupt: run cancelled"
        else:
            result["error"] = f"{type(exc).__name__}: {exc}"
        result["error_trace"] = "".join(traceback.format_exception(exc))
        print(result["error_trace"], file=sys.stderr)
    finally:
        if spark is not None:
            try:
                release_spark(spark)
            except Exception:  # noqa: BLE001
                pass
    write_result(args.result, result)
    return 0 if result["result_state"] == "SUCCESS" else 1


if __name__ == "__main__":
    sys.exit(main())
