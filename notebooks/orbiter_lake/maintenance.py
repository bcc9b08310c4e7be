"""Table maintenance (the orbiter-table-maintenance job): layout, OPTIMIZE, VACUUM and statistics per Delta table.

- OPTIMIZE compacts small files; on a clustered table it also clusters (liquid clustering, incremental).
- VACUUM removes files no version inside the retention still needs. The retention never goes below
  MIN_RETENTION_HOURS (7 days): time travel for repairs and audits, and any stream reading a Delta table
  (checkpointed offsets point at versions) needs the files of versions it has not processed yet. The lake's
  streams read raw files and events, not Delta tables, but the floor keeps a future Delta stream safe after
  a week-long outage of its job.
- Statistics: Databricks recomputes data-skipping statistics with ANALYZE TABLE ... COMPUTE DELTA STATISTICS;
  open-source Delta writes per-file statistics with every commit (OPTIMIZE rewrites them) and rejects ANALYZE on
  path-addressed tables, so locally the step reports "not supported" instead of pretending.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

from delta.tables import DeltaTable
from pyspark.sql import SparkSession

from . import layout
from .lake import SOURCES, LakeError, zone_path
from .spark_session import on_databricks

MIN_RETENTION_HOURS = 168
DEFAULT_RETENTION_HOURS = 168
ZONES = ("bronze", "silver", "gold", "quarantine")


@dataclass
class TableReport:
    zone: str
    table: str
    path: str
    layout_changes: list[str] = field(default_factory=list)
    files_before: int = 0
    files_after: int = 0
    bytes_before: int = 0
    bytes_after: int = 0
    files_on_disk_before: int = 0
    files_on_disk_after: int = 0
    bytes_on_disk_before: int = 0
    bytes_on_disk_after: int = 0
    optimize: dict[str, int] = field(default_factory=dict)
    statistics: str = ""
    seconds: float = 0.0
    error: str | None = None


def check_retention(hours: float) -> float:
    if not isinstance(hours, (int, float)) or hours < MIN_RETENTION_HOURS:
        raise LakeError(
            f"vacuum_retention_hours must be >= {MIN_RETENTION_HOURS} (time travel and stream checkpoints need the files), got {hours!r}"
        )
    return float(hours)


def parse_retention(text: str | None) -> float:
    if text is None or not str(text).strip():
        return float(DEFAULT_RETENTION_HOURS)
    try:
        value = float(text)
    except ValueError as exc:
        raise LakeError(f"vacuum_retention_hours must be a number of hours, got {text!r}") from exc
    return check_retention(value)


def _fs(spark: SparkSession, path: str):
    jvm = spark.sparkContext._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    return hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), hpath


def list_tables(spark: SparkSession, lake_root: str, zones: tuple[str, ...] = ZONES) -> list[tuple[str, str, str]]:
    """(zone, table, path) of every Delta table directly under each zone (a folder with a _delta_log)."""
    found = []
    for zone in zones:
        root = zone_path(lake_root, zone)
        fs, hroot = _fs(spark, root)
        if not fs.exists(hroot):
            continue
        for status in fs.listStatus(hroot):
            if not status.isDirectory():
                continue
            path = f"{root}/{status.getPath().getName()}"
            if DeltaTable.isDeltaTable(spark, path):
                found.append((zone, status.getPath().getName(), path))
    return sorted(found)


def tables_for_source(source: str) -> set[tuple[str, str]]:
    """(zone, table) pairs a dataset writes (for source-scoped maintenance)."""
    from .bronze import bronze_tables
    from .gold import GOLD_TABLES
    from .silver import QUARANTINE_TABLE, entities_for

    return (
        {("bronze", t) for t in bronze_tables(source)}
        | {("silver", e.name) for e in entities_for(source)}
        | {("gold", t) for t in GOLD_TABLES.get(source, [])}
        | {("quarantine", QUARANTINE_TABLE)}
    )


def active_files(spark: SparkSession, path: str) -> tuple[int, int]:
    """(data files, bytes) of the table's current version: what a query reads."""
    d = spark.sql(f"DESCRIBE DETAIL delta.`{path}`").collect()[0]
    return int(d["numFiles"] or 0), int(d["sizeInBytes"] or 0)


def disk_usage(spark: SparkSession, path: str) -> tuple[int, int]:
    """(parquet files, bytes) in storage under the table, excluding _delta_log: what VACUUM reclaims."""
    fs, hpath = _fs(spark, path)
    files = total = 0
    it = fs.listFiles(hpath, True)
    while it.hasNext():
        st = it.next()
        p = st.getPath().toString()
        if "/_delta_log/" in p or not p.endswith(".parquet"):
            continue
        files += 1
        total += st.getLen()
    return files, total


def optimize(spark: SparkSession, path: str) -> dict[str, int]:
    rows = spark.sql(f"OPTIMIZE delta.`{path}`").collect()
    if not rows:
        return {}
    m = rows[0]["metrics"].asDict(recursive=True)
    return {
        "files_added": int(m.get("numFilesAdded") or 0),
        "files_removed": int(m.get("numFilesRemoved") or 0),
        "bytes_added": int((m.get("filesAdded") or {}).get("totalSize") or 0),
        "bytes_removed": int((m.get("filesRemoved") or {}).get("totalSize") or 0),
    }


def vacuum(spark: SparkSession, path: str, retention_hours: float, *, below_floor_for_tests: bool = False) -> None:
    """VACUUM with the given retention. below_floor_for_tests lets the benchmark and tests simulate "a week later"
    (retention 0 with Delta's safety check off for this session); the job never passes it."""
    if not below_floor_for_tests:
        check_retention(retention_hours)
        DeltaTable.forPath(spark, path).vacuum(retention_hours)
        return
    key = "spark.databricks.delta.retentionDurationCheck.enabled"
    previous = spark.conf.get(key, "true")
    spark.conf.set(key, "false")
    try:
        DeltaTable.forPath(spark, path).vacuum(retention_hours)
    finally:
        spark.conf.set(key, previous)


def statistics(spark: SparkSession, path: str, databricks: bool | None = None) -> str:
    if not (on_databricks() if databricks is None else databricks):
        return "not supported by open-source Delta on path tables (per-file stats are written with every commit)"
    spark.sql(f"ANALYZE TABLE delta.`{path}` COMPUTE DELTA STATISTICS")
    return "recomputed"


def maintain_table(
    spark: SparkSession,
    zone: str,
    table: str,
    path: str,
    retention_hours: float,
    *,
    apply_layout: bool = True,
    below_floor_for_tests: bool = False,
) -> TableReport:
    started = time.monotonic()
    r = TableReport(zone, table, path)
    r.files_before, r.bytes_before = active_files(spark, path)
    r.files_on_disk_before, r.bytes_on_disk_before = disk_usage(spark, path)
    if apply_layout:
        r.layout_changes = layout.ensure_layout(spark, path)
    r.optimize = optimize(spark, path)
    vacuum(spark, path, retention_hours, below_floor_for_tests=below_floor_for_tests)
    try:
        r.statistics = statistics(spark, path)
    except Exception as exc:  # statistics are advisory: report the failure, keep maintaining the other tables
        r.statistics = f"failed: {exc}"
    r.files_after, r.bytes_after = active_files(spark, path)
    r.files_on_disk_after, r.bytes_on_disk_after = disk_usage(spark, path)
    r.seconds = round(time.monotonic() - started, 3)
    return r


def run_maintenance(
    spark: SparkSession, lake_root: str, source: str = "all", retention_hours: float = DEFAULT_RETENTION_HOURS
) -> list[dict]:
    """Maintains every Delta table of the lake (source "all") or of one dataset. A table that fails is reported
    with its error and the others still run; the caller fails the job when any table failed."""
    check_retention(retention_hours)
    if source != "all" and source not in SOURCES:
        raise LakeError(f"source must be 'all' or one of {', '.join(SOURCES)}, got {source!r}")
    wanted = None if source == "all" else tables_for_source(source)
    reports = []
    for zone, table, path in list_tables(spark, lake_root):
        if wanted is not None and (zone, table) not in wanted:
            continue
        try:
            reports.append(maintain_table(spark, zone, table, path, retention_hours))
        except Exception as exc:  # noqa: BLE001 - one broken table must not stop the others' maintenance
            reports.append(TableReport(zone, table, path, error=f"{type(exc).__name__}: {exc}"))
    return [asdict(r) for r in reports]


def summary(reports: list[dict]) -> dict[str, int]:
    """Totals for the job's exit value (the cost report reads rows/bytes from it)."""
    ok = [r for r in reports if not r.get("error")]
    return {
        "tables": len(reports),
        "failed": len(reports) - len(ok),
        "files_before": sum(r["files_before"] for r in ok),
        "files_after": sum(r["files_after"] for r in ok),
        "bytes_processed": sum(r.get("optimize", {}).get("bytes_removed", 0) for r in ok),
        "bytes_on_disk_before": sum(r["bytes_on_disk_before"] for r in ok),
        "bytes_on_disk_after": sum(r["bytes_on_disk_after"] for r in ok),
    }
