"""Starts the local Databricks emulator (node packages/databricks-emulator/dist/main.js, port 0, empty workspace)
and hands the tests a databricks-sdk WorkspaceClient pointed at it, after importing the test notebook into the
workspace through the Workspace API (jobs run workspace notebooks, as on Databricks). Notebook tasks run through the
runner contract with a fast stand-in (test/fixtures/fake_run_notebook.js: message=fail fails, message=sleep runs
until cancelled), so the suite checks the Jobs API, not Spark."""

from __future__ import annotations

import os
import base64
import queue
import shutil
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.core import Config
from databricks.sdk.service import workspace

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "packages" / "databricks-emulator"
MAIN = PACKAGE / "dist" / "main.js"
FAKE_RUNNER = PACKAGE / "test" / "fixtures" / "fake_run_notebook.js"
NOTEBOOK_SOURCE = PACKAGE / "test" / "fixtures" / "bundle" / "notebooks" / "echo.py"
# Where the session imports NOTEBOOK_SOURCE; every job of the suite runs it.
NOTEBOOK = "/Shared/conformance/echo"
TOKEN = "conformance-token"


class Emulator:
    def __init__(self, host: str, token: str) -> None:
        self.host = host
        self.token = token


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    if not MAIN.exists():
        pytest.fail(f"{MAIN} is missing: run `npm run build` first")
    work = tempfile.mkdtemp(prefix="dbx-conformance-")
    node = shutil.which("node") or "node"
    args = [
        node,
        str(MAIN),
        "--port", "0",
        "--no-persist",
        "--work-dir", os.path.join(work, "work"),
        "--lake-root", os.path.join(work, "lake"),
        "--runner-python", node,
        "--runner-script", str(FAKE_RUNNER),
        "--max-parallel-tasks", "8",
        "--token", TOKEN,
    ]  # fmt: skip
    env = {**os.environ, "LOG_LEVEL": "warn"}
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    found: dict[str, str] = {}
    try:
        while "DATABRICKS_TOKEN" not in found:
            try:
                line = lines.get(timeout=60)
            except queue.Empty:
                pytest.fail("the emulator printed no DATABRICKS_HOST/DATABRICKS_TOKEN within 60 s")
            key, sep, value = line.strip().partition("=")
            if sep and key in ("DATABRICKS_HOST", "DATABRICKS_TOKEN"):
                found[key] = value
        yield Emulator(found["DATABRICKS_HOST"], found["DATABRICKS_TOKEN"])
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(work, ignore_errors=True)


def client_for(emulator: Emulator, token: str) -> WorkspaceClient:
    # Everything explicit: no ~/.databrickscfg, no environment, PAT only.
    cfg = Config(host=emulator.host, token=token, auth_type="pat", config_file="/dev/null", retry_timeout_seconds=30)
    return WorkspaceClient(config=cfg)


@pytest.fixture(scope="session")
def w(emulator: Emulator) -> WorkspaceClient:
    client = client_for(emulator, emulator.token)
    client.workspace.mkdirs(NOTEBOOK.rsplit("/", 1)[0])
    client.workspace.import_(
        NOTEBOOK,
        content=base64.b64encode(NOTEBOOK_SOURCE.read_bytes()).decode(),
        format=workspace.ImportFormat.SOURCE,
        language=workspace.Language.PYTHON,
        overwrite=True,
    )
    return client


@pytest.fixture
def name() -> str:
    return f"conformance-{uuid.uuid4().hex[:10]}"
