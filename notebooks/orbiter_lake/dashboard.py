"""The insights dashboard's datasets, run locally on Spark SQL.

The AI/BI dashboard (resources/orbiter_insights.dashboard.yml) is one .lvdash.json shipped in this package, so the
wheel a job runs carries exactly the definition the same deploy published. Its dataset SQL names tables
`gold.<table>`: on Databricks the dashboard's dataset_catalog makes them `<catalog>.gold.<table>`. Locally each gold
Delta folder is registered as an external table `gold.<table>` in the Spark session catalog, so the dataset text runs
unchanged (no SQL rewriting), and each result is written as `<out_dir>/<dataset>.json` for the local dashboard:

    {"dataset": name, "generatedAt": ISO-8601, "columns": [{"name", "type"}], "rows": [{column: value}],
     "truncated": bool}

Types are Spark SQL type names (bigint, double, string, date, timestamp, boolean, ...); dates are "YYYY-MM-DD",
timestamps UTC "YYYY-MM-DDTHH:MM:SSZ"; at most ROW_CAP rows (truncated says whether more existed).
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import os
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import TimestampNTZType, TimestampType

from . import delta_io
from .concurrent_queries import map_queries
from .lake import table_path
from .spark_session import configure_run

DASHBOARD_FILE = "orbiter_insights.lvdash.json"
ROW_CAP = 5000  # a map of 5,000 points is already dense; the dashboard's own map datasets stop there too
GOLD_SCHEMA = "gold"
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,100}$")  # a dataset name becomes a file name
_GOLD_TABLE = re.compile(r"\bgold\.`?(\w+)`?", re.IGNORECASE)


class DashboardError(ValueError):
    """The dashboard definition is not what this module can run (a bad .lvdash.json): not retryable."""


@dataclass(frozen=True)
class Dataset:
    name: str
    display_name: str
    sql: str
    tables: tuple[str, ...]  # gold tables the SQL reads


@dataclass(frozen=True)
class DatasetResult:
    name: str
    rows: int
    truncated: bool
    path: str | None
    missing_tables: tuple[str, ...] = ()  # not run: these gold tables do not exist (yet)


def load_definition(path: str | None = None) -> dict:
    """The .lvdash.json: the packaged one, or the file at `path`."""
    try:
        if path:
            with open(path, encoding="utf-8") as fh:
                return json.load(fh)
        return json.loads(resources.files(__package__).joinpath("dashboards", DASHBOARD_FILE).read_text("utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise DashboardError(f"cannot read the dashboard definition {path or DASHBOARD_FILE}: {e}") from e


def datasets(definition: dict) -> list[Dataset]:
    raw = definition.get("datasets") if isinstance(definition, dict) else None
    if not isinstance(raw, list) or not raw:
        raise DashboardError("the dashboard definition has no datasets list")
    out: list[Dataset] = []
    for i, d in enumerate(raw):
        name = d.get("name") if isinstance(d, dict) else None
        lines = d.get("queryLines") if isinstance(d, dict) else None
        if not isinstance(name, str) or not _NAME.match(name):
            raise DashboardError(f"dataset #{i}: name {name!r} is not 1-100 letters, digits, '_' or '-'")
        if not isinstance(lines, list) or not lines or not all(isinstance(x, str) for x in lines):
            raise DashboardError(f"dataset {name}: queryLines must be a non-empty list of strings")
        if any(o.name == name for o in out):
            raise DashboardError(f"dataset {name} is defined twice")
        sql = "".join(lines)
        tables = tuple(sorted({m.lower() for m in _GOLD_TABLE.findall(sql)}))
        out.append(Dataset(name, str(d.get("displayName") or name), sql, tables))
    return out


def register_gold_tables(spark: SparkSession, lake_root: str, tables: set[str]) -> set[str]:
    """Registers each existing gold Delta folder as external table gold.<table> in the session catalog (replacing a
    registration from an earlier lake root); returns the tables that exist. Dropping an external table keeps its
    files."""
    spark.sql(f"CREATE DATABASE IF NOT EXISTS {GOLD_SCHEMA}")
    present = set()
    for table in sorted(tables):
        path = table_path(lake_root, GOLD_SCHEMA, table)
        spark.sql(f"DROP TABLE IF EXISTS {GOLD_SCHEMA}.`{table}`")
        if delta_io.exists(spark, path):
            spark.catalog.createTable(f"{GOLD_SCHEMA}.{table}", path=path, source="delta")
            present.add(table)
    return present


def _json_value(v: Any) -> Any:
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, (list, tuple)):
        return [_json_value(x) for x in v]
    if isinstance(v, dict):
        return {k: _json_value(x) for k, x in v.items()}
    if hasattr(v, "asDict"):
        return _json_value(v.asDict())
    return v


def _timestamps_as_utc_text(df: DataFrame) -> DataFrame:
    # collect() turns timestamps into the Python process's local time; render them in Spark (session zone: UTC).
    cols = [
        F.date_format(F.col(f"`{f.name}`"), "yyyy-MM-dd'T'HH:mm:ss'Z'").alias(f.name)
        if isinstance(f.dataType, (TimestampType, TimestampNTZType))
        else F.col(f"`{f.name}`")
        for f in df.schema.fields
    ]
    return df.select(*cols)


def run_dataset(spark: SparkSession, ds: Dataset, cap: int = ROW_CAP) -> dict:
    """Runs one dataset's SQL; returns the file document without generatedAt."""
    df = spark.sql(ds.sql)
    columns = [{"name": f.name, "type": f.dataType.simpleString()} for f in df.schema.fields]
    rows = _timestamps_as_utc_text(df).limit(cap + 1).collect()
    return {
        "dataset": ds.name,
        "columns": columns,
        "rows": [{k: _json_value(v) for k, v in r.asDict().items()} for r in rows[:cap]],
        "truncated": len(rows) > cap,
    }


def _write_atomic(path: str, doc: dict) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=1, allow_nan=False)
    os.replace(tmp, path)  # readers see the old file or the new one, never half of one


def write_datasets(
    spark: SparkSession,
    lake_root: str,
    out_dir: str,
    generated_at: str,
    definition: dict | None = None,
    cap: int = ROW_CAP,
) -> list[DatasetResult]:
    """Runs every dataset whose gold tables exist and writes <out_dir>/<name>.json; a dataset whose tables are missing
    is reported (and its file from an earlier run removed, so the dashboard never shows stale data as current). A SQL
    error raises: the definition and gold disagree, which a test or a run must surface."""
    configure_run(spark)  # timestamps rendered in UTC
    all_ds = datasets(definition if definition is not None else load_definition())
    present = register_gold_tables(spark, lake_root, {t for d in all_ds for t in d.tables})
    os.makedirs(out_dir, exist_ok=True)
    runnable = [ds for ds in all_ds if all(t in present for t in ds.tables)]
    docs = dict(zip((ds.name for ds in runnable), map_queries(spark, lambda ds: run_dataset(spark, ds, cap), runnable)))
    results = []
    for ds in all_ds:
        path = os.path.join(out_dir, f"{ds.name}.json")
        doc = docs.get(ds.name)
        if doc is None:
            if os.path.exists(path):
                os.remove(path)
            missing = tuple(t for t in ds.tables if t not in present)
            results.append(DatasetResult(ds.name, 0, False, None, missing))
            continue
        _write_atomic(
            path, {"dataset": ds.name, "generatedAt": generated_at, **{k: v for k, v in doc.items() if k != "dataset"}}
        )
        results.append(DatasetResult(ds.name, len(doc["rows"]), doc["truncated"], path))
    return results
