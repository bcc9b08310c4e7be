"""Lake layout (docs/contracts.md): zone paths from lake_root, the input manifest, and raw blob names."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

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


def parse_manifest(text: str | None) -> list[ManifestFile]:
    """input_manifest job parameter: JSON {"files":[{"container","path","etag"}]}. Empty string or no files means
    "process everything under raw/<source>/" and returns []."""
    if text is None or not text.strip():
        return []
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LakeError(f"input_manifest is not JSON: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("files", []), list):
        raise LakeError('input_manifest must be an object {"files": [...]}')
    files = []
    for i, item in enumerate(doc.get("files", [])):
        if not isinstance(item, dict) or not isinstance(item.get("path"), str) or not item["path"]:
            raise LakeError(f"input_manifest.files[{i}] needs a string path")
        files.append(ManifestFile(item.get("container") or "raw", item["path"].lstrip("/"), item.get("etag")))
    return files


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
