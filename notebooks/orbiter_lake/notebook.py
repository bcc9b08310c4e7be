"""What every notebook does first: read the job parameters (widgets) and log the run context."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass

from .lake import LakeError, ManifestRef, parse_manifest
from .spark_session import on_databricks

PARAMS = ("source", "lake_root", "input_manifest", "orbiter_run_id", "traceparent")


@dataclass(frozen=True)
class RunParams:
    source: str
    lake_root: str
    input_manifest: str
    orbiter_run_id: str
    traceparent: str
    read_mode: str

    def log(self, notebook: str) -> None:
        # One structured line: the dispatcher's trace/run ids tie the Databricks run to the Orbiter run.
        # A manifest by reference is read by the stage that needs it; the log names it instead of counting.
        manifest = parse_manifest(self.input_manifest)
        ref = manifest if isinstance(manifest, ManifestRef) else None
        print(
            json.dumps(
                {
                    "notebook": notebook,
                    "orbiter_run_id": self.orbiter_run_id,
                    "traceparent": self.traceparent,
                    "source": self.source,
                    "lake_root": self.lake_root,
                    "manifest_files": None if ref else len(manifest),
                    "manifest_ref": str(ref) if ref else None,
                    "read_mode": self.read_mode,
                }
            ),
            file=sys.stdout,
            flush=True,
        )


def read_params(dbutils, require_source: bool = True) -> RunParams:
    def get(name: str) -> str:
        try:
            return (dbutils.widgets.get(name) or "").strip()
        except Exception:  # widget not defined in this notebook
            return ""

    params = {name: get(name) for name in PARAMS}
    read_mode = get("read_mode") or ("autoloader" if on_databricks() else "files")
    if not params["lake_root"]:
        raise LakeError("job parameter lake_root is required")
    if require_source:
        from .lake import require_source as check

        check(params["source"])
    parse_manifest(params["input_manifest"])  # fail fast on a bad manifest
    return RunParams(read_mode=read_mode, **params)


def default_charts_dir(lake_root: str) -> str | None:
    """Local runs save charts beside the lake (<lake_root>/../charts); remote lakes rely on display()."""
    if "{zone}" in lake_root or "://" in lake_root and not lake_root.startswith("file:"):
        return None
    root = lake_root[len("file:") :] if lake_root.startswith("file:") else lake_root
    return os.path.join(os.path.dirname(os.path.abspath(root.rstrip("/"))), "charts")


def exit_value(params: RunParams, **payload) -> str:
    return json.dumps(
        {"orbiter_run_id": params.orbiter_run_id, "source": params.source or None, **payload}, default=str
    )
