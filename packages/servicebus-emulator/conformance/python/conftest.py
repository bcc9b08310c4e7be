"""Starts the Orbiter Service Bus emulator (built CLI, ephemeral port) once per pytest run for the conformance tests.

The tests use the unchanged `azure-servicebus` SDK with the connection string the emulator prints.
"""

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
PKG = HERE.parent.parent
MAIN = PKG / "dist" / "main.js"
CONFIG = HERE.parent / "config.json"
# The first policy is the one the emulator prints; the others test rights.
POLICIES = [
    "RootManageSharedAccessKey:SAS_KEY_VALUE:Manage,Send,Listen",
    "sendonly:c2VuZC1vbmx5LWtleQ==:Send",
    "listenonly:bGlzdGVuLW9ubHkta2V5:Listen",
]


def _start_emulator():
    if not MAIN.exists():
        raise RuntimeError(f"{MAIN} is missing: run `npm run build` first")
    proc = subprocess.Popen(
        ["node", str(MAIN), "--port", "0", "--config", str(CONFIG)]
        + [a for p in POLICIES for a in ("--policy", p)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline().strip()
    if not line.startswith("Endpoint="):
        proc.kill()
        raise RuntimeError(
            f"emulator did not print a connection string: {line!r} {proc.stderr.read()}"
        )
    # Drain the log so a chatty emulator never blocks on a full pipe.
    threading.Thread(target=proc.stderr.read, daemon=True).start()
    threading.Thread(target=proc.stdout.read, daemon=True).start()
    return proc, line


@pytest.fixture(scope="session")
def conn_str():
    proc, line = _start_emulator()
    yield line
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def sb_parts(conn_str):
    parts = dict(p.split("=", 1) for p in conn_str.strip(";").split(";"))
    return parts


def pytest_report_header(config):
    import azure.servicebus

    return f"azure-servicebus {azure.servicebus.__version__}, python {sys.version.split()[0]}, cwd {os.getcwd()}"
