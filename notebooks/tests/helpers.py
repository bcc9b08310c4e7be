"""Test helpers: landing raw files in a throw-away lake (contract layout) and locating the shared samples."""

from __future__ import annotations

import hashlib
import json
import os
import sys

import pytest

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
NOTEBOOKS_DIR = os.path.dirname(TESTS_DIR)
REPO_ROOT = os.path.dirname(NOTEBOOKS_DIR)
FIXTURES = os.path.join(TESTS_DIR, "fixtures")
RUNNER_DIR = os.path.join(REPO_ROOT, "packages", "databricks-emulator", "runner")

# (source, stream, window start, window end, page, fixture file)
FIXTURE_FILES = [
    ("neows", "feed", "2024-06-01", "2024-06-08", None, "neows/feed_2024-06-01_2024-06-08.json"),
    ("donki", "FLR", "2024-04-28", "2024-05-12", None, "donki/FLR_2024-04-28_2024-05-12.json"),
    ("donki", "CME", "2024-05-01", "2024-05-12", None, "donki/CME_2024-05-01_2024-05-12.json"),
    ("donki", "GST", "2024-05-01", "2024-05-31", None, "donki/GST_2024-05-01_2024-05-31.json"),
    ("eonet", "events", "2025-10-01", "2025-11-10", None, "eonet/events_2025-10-01_2025-11-10.json"),
    ("fireball", "fireball", "2024-01-01", "2025-01-01", None, "fireball/fireball_2024-01-01_2025-01-01.json"),
    ("meteorites", "landings", "2024-06-01", "2024-06-02", 1, "meteorites/landings_p0001.json"),
    ("cmr", "MYD021KM", "2024-05-31", "2024-06-02", 1, "cmr/MYD021KM_2024-05-31_2024-06-01.json"),
    ("apod", "apod", "2024-05-30", "2024-05-31", None, "apod/apod_2024-05-30_2024-05-31.json"),
    ("apod", "apod", "2024-06-01", "2024-06-01", None, "apod/apod_2024-06-01.json"),
    ("apod", "apod", "2024-06-02", "2024-06-02", None, "apod/apod_error_400.json"),
    ("epic", "natural", "2024-05-31", "2024-05-31", None, "epic/natural_2024-05-31.json"),
]


def blob_name(source: str, stream: str, ws: str, we: str, body: bytes, page: int | None = None) -> str:
    sha16 = hashlib.sha256(body).hexdigest()[:16]
    page_part = f".p{page:04d}" if page else ""
    return f"{source}/{stream}/{ws[:4]}/{ws[5:7]}/{ws[8:10]}/{ws}_{we}{page_part}.{sha16}.json"


def land(
    lake_root: str,
    source: str,
    stream: str,
    ws: str,
    we: str,
    body: bytes,
    page: int | None = None,
    mtime: float | None = None,
) -> str:
    """Writes body as a raw blob (content-addressed name) and returns the blob name."""
    name = blob_name(source, stream, ws, we, body, page)
    path = os.path.join(lake_root, "raw", name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(body)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return name


def fixture_bytes(rel: str) -> bytes:
    with open(os.path.join(FIXTURES, rel), "rb") as fh:
        return fh.read()


def fixture_json(rel: str):
    return json.loads(fixture_bytes(rel))


def land_fixtures(lake_root: str, sources: tuple[str, ...] | None = None, mtime: float | None = None) -> list[str]:
    return [
        land(lake_root, src, stream, ws, we, fixture_bytes(rel), page, mtime)
        for src, stream, ws, we, page, rel in FIXTURE_FILES
        if sources is None or src in sources
    ]


def samples_dir() -> str:
    return os.environ.get("ORBITER_NASA_SAMPLES") or os.path.normpath(
        os.path.join(REPO_ROOT, "..", "shared", "nasa-samples")
    )


def require_samples() -> str:
    d = samples_dir()
    if not os.path.isfile(os.path.join(d, "MANIFEST.md")):
        pytest.skip(f"NASA sample captures not present at {d} (set ORBITER_NASA_SAMPLES)")
    return d


def sample_bytes(rel: str) -> bytes:
    name = os.path.basename(rel)
    if name.startswith("heldout_") or "_part2" in name:
        raise ValueError(f"{rel} is an evaluation capture (MANIFEST): tests must not read it")
    with open(os.path.join(samples_dir(), rel), "rb") as fh:
        return fh.read()


def read_table(spark, lake_root: str, zone: str, table: str):
    return spark.read.format("delta").load(os.path.join(lake_root, zone, table))


def runner_module():
    if RUNNER_DIR not in sys.path:
        sys.path.insert(0, RUNNER_DIR)
    import run_notebook

    return run_notebook
