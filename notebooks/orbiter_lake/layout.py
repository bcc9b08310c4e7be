"""Physical layout of the lake's Delta tables: table properties and liquid-clustering keys, applied idempotently.

Which properties each platform honours (checked against open-source Delta 4.0.1 locally, see docs/optimization.md):
- delta.autoOptimize.optimizeWrite / delta.autoOptimize.autoCompact: honoured by Databricks AND by open-source
  Delta >= 3.1 (measured here: 60 appends of 2 partitions -> 120 files plain, 60 with optimizeWrite, 19 with
  autoCompact). So they are set on both platforms.
- delta.deletedFileRetentionDuration / delta.logRetentionDuration: both platforms (VACUUM and time-travel horizon).
- delta.tuneFileSizesForRewrites: Databricks only (open source ignores unknown delta.* keys it does not define,
  so it is only set when running on Databricks).
- Liquid clustering (ALTER TABLE ... CLUSTER BY): both (open-source Delta >= 3.2 clusters on OPTIMIZE).
  Z-order is not used: it cannot be combined with clustering, and clustering needs no re-ordering of old data.
"""

from __future__ import annotations

import os
import re

from pyspark.sql import SparkSession

from .spark_session import on_databricks

# Time travel / VACUUM horizon: 7 days of removed files (Delta's default and the VACUUM safety floor), 30 days of log.
RETENTION_PROPERTIES = {
    "delta.deletedFileRetentionDuration": "interval 7 days",
    "delta.logRetentionDuration": "interval 30 days",
}
COMPACTION_PROPERTIES = {
    "delta.autoOptimize.optimizeWrite": "true",
    "delta.autoOptimize.autoCompact": "true",
}
DATABRICKS_ONLY_PROPERTIES = {"delta.tuneFileSizesForRewrites": "true"}
# A session conf the benchmark turns off to build the "unmaintained" baseline; pipelines leave it on.
LAYOUT_CONF = "spark.orbiter.tableLayout"

# Clustering keys for tables that are not silver entities (silver entities cluster on their MERGE keys).
_CLUSTERING = {
    ("bronze", "*"): ("_blob_name",),  # insert_new MERGEs on (_blob_name, _record_index); silver reads by blob
    ("quarantine", "records"): ("entity", "_blob_name"),
    ("silver", "run_completions"): ("orbiter_run_id", "databricks_run_id"),
    ("gold", "run_metrics_hourly"): ("job_name", "hour_start"),
}
MAX_CLUSTER_KEYS = 2  # more keys dilute clustering; the leading merge keys are the selective ones
# Gold aggregates are overwritten whole on every run, so every overwrite replaces all their files: auto compaction
# has nothing to merge there and would only add its post-commit check (measured locally: about 0.25 s per commit).
# Gold tables that are MERGEd into keep it.
_MERGED_GOLD = ("run_metrics_hourly",)


def properties(databricks: bool | None = None) -> dict[str, str]:
    """The table properties for this platform."""
    props = {**COMPACTION_PROPERTIES, **RETENTION_PROPERTIES}
    if on_databricks() if databricks is None else databricks:
        props.update(DATABRICKS_ONLY_PROPERTIES)
    return props


def table_properties(zone: str, table: str, databricks: bool | None = None) -> dict[str, str]:
    """The properties of one table: properties(), with auto compaction off for tables rewritten whole."""
    props = properties(databricks)
    if zone == "gold" and table not in _MERGED_GOLD:
        props["delta.autoOptimize.autoCompact"] = "false"
    return props


def clustering(zone: str, table: str) -> tuple[str, ...]:
    """Liquid-clustering columns of a table ((): none, e.g. gold aggregates that are overwritten whole)."""
    if (zone, table) in _CLUSTERING:
        return _CLUSTERING[(zone, table)]
    if (zone, "*") in _CLUSTERING:
        return _CLUSTERING[(zone, "*")]
    if zone == "silver":
        from .silver import ENTITIES  # here: silver imports delta_io, which imports this module

        for e in ENTITIES:
            if e.name == table:
                return e.keys[:MAX_CLUSTER_KEYS]
    return ()


def zone_and_table(path: str) -> tuple[str, str]:
    """(zone, table) of a table path: <root>/<zone>/<table> locally, abfss://<zone>@<account>/<table> on Azure."""
    trimmed = path.rstrip("/")
    m = re.match(r"^[a-z0-9]+://([^@/]+)@[^/]+/(.+)$", trimmed)
    if m:
        return m.group(1), m.group(2).split("/")[-1]
    parent, table = os.path.split(trimmed)
    return os.path.basename(parent), table


def _sql_literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _cluster_by(spark: SparkSession, path: str, keys: tuple[str, ...]) -> None:
    spark.sql(f"ALTER TABLE delta.`{path}` CLUSTER BY ({', '.join(f'`{k}`' for k in keys)})")


def ensure_layout(spark: SparkSession, path: str, databricks: bool | None = None) -> list[str]:
    """Sets missing/different properties and the clustering keys of the Delta table at path. Only alters what
    differs (property changes conflict with concurrent writers, so a no-op must not commit). Returns the changes."""
    zone, table = zone_and_table(path)
    detail = spark.sql(f"DESCRIBE DETAIL delta.`{path}`").collect()[0]
    current = dict(detail["properties"] or {})
    wanted = table_properties(zone, table, databricks)
    missing = {k: v for k, v in wanted.items() if current.get(k) != v}
    changes = []
    if missing:
        assignments = ", ".join(f"{_sql_literal(k)} = {_sql_literal(v)}" for k, v in sorted(missing.items()))
        spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES ({assignments})")
        changes.append(f"properties {', '.join(sorted(missing))}")
    keys = clustering(zone, table)
    current_keys = tuple(detail["clusteringColumns"] or ()) if "clusteringColumns" in detail.asDict() else ()
    if keys and current_keys != keys and not (detail["partitionColumns"] or []):
        _cluster_by(spark, path, keys)
        changes.append(f"cluster by {', '.join(keys)}")
    return changes


def layout_enabled(spark: SparkSession) -> bool:
    return (spark.conf.get(LAYOUT_CONF, "on") or "on").lower() != "off"


def creation_options(spark: SparkSession, path: str) -> dict[str, str]:
    """Writer options that give a new table its properties in its first commit (Delta takes delta.* write options as
    table properties when the write creates the table, and ignores them on an existing one). One commit instead of a
    write, a DESCRIBE DETAIL and an ALTER: each of those costs a Delta snapshot."""
    if not layout_enabled(spark):
        return {}
    return table_properties(*zone_and_table(path))


def on_created(spark: SparkSession, path: str) -> None:
    """Called by the writers right after they create a table (with creation_options): its clustering keys, which a
    path write cannot set."""
    if not layout_enabled(spark):
        return
    zone, table = zone_and_table(path)
    keys = clustering(zone, table)
    if keys:
        _cluster_by(spark, path, keys)
