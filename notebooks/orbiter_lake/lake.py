"""Lake layout (docs/contracts.md): zone paths from lake_root, the input manifest, and raw blob names."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # lake.py stays importable without Spark
    from pyspark.sql import SparkSession

ZONES = ("raw", "quarantine", "events", "bronze", "silver", "gold", "checkpoints")
SOURCES = ("neows", "donki", "eonet", "apod", "epic", "fireball", "meteorites", "cmr")

# <source>/<stream>/<yyyy>/<mm>/<dd>/<windowStart>_<windowEnd>[.pNNNN].<sha16>.json  (sha16 optional when reading)
BLOB_NAME_RE = r"([^/]+/[^/]+/\d{4}/\d{2}/\d{2}/[^/]+\.json)$"
FILE_NAME_RE = re.compile(r"^(?P<ws>.+?)_(?P<we>.+?)(?:\.p(?P<page>\d{4}))?(?:\.(?P<sha16>[0-9a-f]{16}))?\.json$")


class LakeError(ValueError):
    """Bad lake parameter (lake_root, manifest, source): not retryable."""


def zone_path(lake_root: str, zone: str, *parts: str) -> str:
    """Path of a zone (and optional sub-path). lake_root either contains "{zone}" (Azure abfss template) or is a
    plain local/remote root under which each zone is a folder."""
    if zone not in ZONES:
        raise LakeError(f"unknown lake zone {zone!r}")
    if not lake_root:
        raise LakeError("lake_root is empty")
    base = lake_root.replace("{zone}", zone) if "{zone}" in lake_root else f"{lake_root.rstrip('/')}/{zone}"
    tail = "/".join(p.strip("/") for p in parts if p)
    return f"{base.rstrip('/')}/{tail}" if tail else base.rstrip("/")


def table_path(lake_root: str, zone: str, table: str) -> str:
    """Delta tables live at <zone>/<table>/."""
    return zone_path(lake_root, zone, table)


@dataclass(frozen=True)
class ManifestFile:
    container: str
    path: str
    etag: str | None = None


@dataclass(frozen=True)
class ManifestRef:
    """input_manifest by reference: the lake file <container>/<path> holds {"files":[...]} (large manifests)."""

    container: str
    path: str

    def __str__(self) -> str:
        return f"{self.container}/{self.path}"


_CONTROL = re.compile(r"[\x00-\x1f\x7f\\\\]")


def lake_path_problem(path: str) -> str | None:
    """Why a manifest path is not a plain path inside its container (None when it is): `..`/`.` or empty segments,
    backslashes or control characters could resolve into another zone (raw/neows/../../quarantine/...)."""
    if not path or len(path) > 1024:
        return "must be 1 to 1024 characters"
    if _CONTROL.search(path):
        return "must not contain control characters or backslashes"
    segments = path.split("/")
    if any(s == "" for s in segments):
        return "must not contain empty segments"
    if any(s in (".", "..") for s in segments):
        return "must not contain . or .. segments"
    return None


def _manifest_files(doc: object, what: str) -> list[ManifestFile]:
    if not isinstance(doc, dict) or not isinstance(doc.get("files", []), list):
        raise LakeError(f'{what} must be an object {{"files": [...]}}')
    files = []
    for i, item in enumerate(doc.get("files", [])):
        if not isinstance(item, dict) or not isinstance(item.get("path"), str) or not item["path"]:
            raise LakeError(f"{what}.files[{i}] needs a string path")
        container, path = item.get("container") or "raw", item["path"].lstrip("/")
        if container not in ZONES:
            raise LakeError(f"{what}.files[{i}].container must be a lake zone, got {container!r}")
        problem = lake_path_problem(path)
        if problem:
            raise LakeError(f"{what}.files[{i}].path {path!r} {problem}")
        files.append(ManifestFile(container, path, item.get("etag")))
    return files


def _manifest_ref(doc: dict) -> ManifestRef:
    ref = doc["ref"]
    if len(doc) != 1:
        raise LakeError('input_manifest is either {"files": [...]} or {"ref": {...}}, not both')
    if not isinstance(ref, dict) or set(ref) != {"container", "path"}:
        raise LakeError('input_manifest.ref must be {"container": ..., "path": ...}')
    container, path = ref["container"], ref["path"]
    if container not in ZONES:
        raise LakeError(f"input_manifest.ref.container must be a lake zone ({', '.join(ZONES)}), got {container!r}")
    if not isinstance(path, str) or lake_path_problem(path.strip("/")):
        raise LakeError(f"input_manifest.ref.path must be a path inside the {container} zone, got {path!r}")
    return ManifestRef(container, path.strip("/"))


def parse_manifest(text: str | None) -> list[ManifestFile] | ManifestRef:
    """input_manifest job parameter (docs/contracts.md): JSON {"files":[{"container","path","etag"}]}, or
    {"ref":{"container","path"}} naming a lake file that holds the files (see resolve_manifest). Empty string or
    no files means "process everything under raw/<source>/" and returns []."""
    if text is None or not text.strip():
        return []
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LakeError(f"input_manifest is not JSON: {exc}") from exc
    if isinstance(doc, dict) and "ref" in doc:
        return _manifest_ref(doc)
    return _manifest_files(doc, "input_manifest")


def parse_manifest_file(text: str, ref: ManifestRef) -> list[ManifestFile]:
    """The content of a referenced manifest: the inline form only ({"files": [...]} required, no nested ref)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LakeError(f"input manifest {ref} is not JSON: {exc}") from exc
    if not isinstance(doc, dict) or "files" not in doc or "ref" in doc:
        raise LakeError(f'input manifest {ref} must be an object {{"files": [...]}}')
    return _manifest_files(doc, f"input manifest {ref}")


def resolve_manifest(spark: SparkSession, lake_root: str, text: str | None) -> list[ManifestFile]:
    """The run's input files: the inline manifest, or the referenced one read from the lake with Spark (abfss on
    Azure, a local folder locally). [] = everything under raw/<source>/, as for an inline manifest without files."""
    manifest = parse_manifest(text)
    if not isinstance(manifest, ManifestRef):
        return manifest
    path = zone_path(lake_root, manifest.container, manifest.path)
    from pyspark.errors import AnalysisException  # here, so the pure parsing above needs no Spark

    try:
        rows = spark.read.text(path, wholetext=True).collect()
    except AnalysisException as exc:
        condition = exc.getCondition() if hasattr(exc, "getCondition") else exc.getErrorClass()
        if condition == "PATH_NOT_FOUND":
            raise LakeError(f"input manifest {manifest} does not exist ({path})") from exc
        raise
    if len(rows) != 1:
        raise LakeError(f"input manifest {manifest} must be one file ({path} matched {len(rows)})")
    return parse_manifest_file(rows[0][0], manifest)


def manifest_raw_paths(lake_root: str, files: list[ManifestFile], source: str) -> list[str]:
    """Absolute raw paths of the manifest files that belong to this source (other containers/sources ignored)."""
    return [
        zone_path(lake_root, "raw", f.path) for f in files if f.container == "raw" and f.path.startswith(f"{source}/")
    ]


@dataclass(frozen=True)
class BlobName:
    source: str
    stream: str
    window_start: str
    window_end: str
    page: int | None
    sha16: str | None


def parse_blob_name(name: str) -> BlobName:
    m = re.search(BLOB_NAME_RE, name)
    if not m:
        raise LakeError(f"not a raw blob name: {name!r}")
    parts = m.group(1).split("/")
    fm = FILE_NAME_RE.match(parts[-1])
    if not fm:
        raise LakeError(f"raw file name does not match <windowStart>_<windowEnd>[.pNNNN].<sha16>.json: {parts[-1]!r}")
    page = fm.group("page")
    return BlobName(parts[0], parts[1], fm.group("ws"), fm.group("we"), int(page) if page else None, fm.group("sha16"))


def require_source(source: str) -> str:
    if source not in SOURCES:
        raise LakeError(f"unknown source {source!r}; expected one of {', '.join(SOURCES)}")
    return source
