"""Data quality per source and layer: rows in bronze / silver / gold, rows quarantined with their top reasons, and how
new the newest ingested window is.

Computed by the visual insights job (after the pipelines) from the Delta tables themselves, so it is true whoever
wrote them. Written as two gold tables a Databricks dashboard or SQL can query, `gold/data_quality` (one row per
source, layer and table) and `gold/quarantine_reasons` (one row per source, entity and reason), and locally also as
`data_quality.json` beside headlines.json for the local dashboard and `orbiter quality`. The per-run view is in each
silver task's exit value (quarantined rows and reasons of that run); this is the standing total.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Iterable, Mapping

from . import delta_io
from .concurrent_queries import map_queries
from .gold import GOLD_TABLES
from .lake import SOURCES, table_path
from .silver import ENTITIES, QUARANTINE_TABLE
from .sources import STREAMS

LAYERS = ("bronze", "silver", "gold")
TOP_REASONS = 3


@dataclass(frozen=True)
class TableCount:
    source: str
    layer: str
    table: str
    rows: int | None  # None: the table does not exist yet
    quarantined: int = 0  # silver entities: rows of this entity in quarantine/records
    newest_window_end: str | None = None  # bronze: the latest ingestion window end among its rows


@dataclass(frozen=True)
class ReasonCount:
    source: str
    entity: str
    reason: str
    rows: int


def tables_of(source: str) -> dict[str, list[str]]:
    """The Delta tables a source feeds, per layer (a gold table fed by two sources is listed under both)."""
    bronze = sorted({s.bronze_table for s in STREAMS if s.source == source})
    silver = [e.name for e in ENTITIES if e.source == source]
    return {"bronze": bronze, "silver": silver, "gold": list(GOLD_TABLES.get(source, []))}


def _empty(source: str) -> dict:
    layers = {layer: {"rows": 0, "tables": {}} for layer in LAYERS}
    return {"source": source, "layers": layers, "quarantined": 0, "topReasons": [], "newestWindowEnd": None}


def summarise(
    counts: Iterable[TableCount], reasons: Iterable[ReasonCount], generated_at: str, top: int = TOP_REASONS
) -> dict:
    """The data_quality.json document: per source, rows per layer (and per table), quarantined rows, top reasons."""
    by_source: dict[str, dict] = {s: _empty(s) for s in SOURCES}
    for c in counts:
        doc = by_source.setdefault(c.source, _empty(c.source))
        layer = doc["layers"][c.layer]
        layer["tables"][c.table] = c.rows
        layer["rows"] += c.rows or 0
        if c.newest_window_end and (doc["newestWindowEnd"] is None or c.newest_window_end > doc["newestWindowEnd"]):
            doc["newestWindowEnd"] = c.newest_window_end
    grouped: dict[str, list[ReasonCount]] = {}
    for r in reasons:
        grouped.setdefault(r.source, []).append(r)
    for source, rs in grouped.items():
        doc = by_source.setdefault(source, _empty(source))
        doc["quarantined"] = sum(r.rows for r in rs)
        ranked = sorted(rs, key=lambda r: (-r.rows, r.entity, r.reason))[:top]
        doc["topReasons"] = [{"entity": r.entity, "reason": r.reason, "rows": r.rows} for r in ranked]
    return {"generatedAt": generated_at, "sources": list(by_source.values())}


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def count_tables(spark, lake_root: str, quarantined: Mapping[tuple[str, str], int]) -> list[TableCount]:
    from pyspark.sql import functions as F

    def count(entry: tuple[str, str, str]) -> TableCount:
        source, layer, table = entry
        path = table_path(lake_root, layer, table)
        if not delta_io.exists(spark, path):
            return TableCount(source, layer, table, None)
        df = spark.read.format("delta").load(path)
        if layer == "bronze":
            row = df.agg(F.count(F.lit(1)).alias("n"), F.max("_window_end").alias("newest")).first()
            return TableCount(source, layer, table, int(row["n"]), newest_window_end=_text(row["newest"]))
        q = quarantined.get((source, table), 0) if layer == "silver" else 0
        return TableCount(source, layer, table, df.count(), quarantined=q)

    entries = [(s, layer, t) for s in SOURCES for layer, tables in tables_of(s).items() for t in tables]
    return map_queries(spark, count, entries)


def count_reasons(spark, lake_root: str) -> list[ReasonCount]:
    path = table_path(lake_root, "quarantine", QUARANTINE_TABLE)
    if not delta_io.exists(spark, path):
        return []
    rows = spark.read.format("delta").load(path).groupBy("_source", "entity", "reason").count().collect()
    return [ReasonCount(str(r["_source"]), str(r["entity"]), str(r["reason"]), int(r["count"])) for r in rows]


def build_quality(spark, lake_root: str, generated_at: str) -> tuple[list[TableCount], list[ReasonCount], dict]:
    reasons = count_reasons(spark, lake_root)
    per_entity: dict[tuple[str, str], int] = {}
    for r in reasons:
        per_entity[(r.source, r.entity)] = per_entity.get((r.source, r.entity), 0) + r.rows
    counts = count_tables(spark, lake_root, per_entity)
    return counts, reasons, summarise(counts, reasons, generated_at)


def write_quality_tables(
    spark, lake_root: str, counts: list[TableCount], reasons: list[ReasonCount], generated_at: str
) -> dict[str, int]:
    """Overwrites gold/data_quality and gold/quarantine_reasons (small snapshots, recomputed each time)."""
    from pyspark.sql import functions as F

    dq = spark.createDataFrame(
        [(c.source, c.layer, c.table, c.rows, c.quarantined, c.newest_window_end) for c in counts],
        "source string, layer string, table_name string, row_count long, quarantined_rows long,"
        " newest_window_end string",
    ).withColumn("computed_at", F.lit(generated_at).cast("timestamp"))
    qr = spark.createDataFrame(
        [(r.source, r.entity, r.reason, r.rows) for r in reasons],
        "source string, entity string, reason string, row_count long",
    ).withColumn("computed_at", F.lit(generated_at).cast("timestamp"))
    delta_io.overwrite(dq, table_path(lake_root, "gold", "data_quality"))
    delta_io.overwrite(qr, table_path(lake_root, "gold", "quarantine_reasons"))
    return {"data_quality": len(counts), "quarantine_reasons": len(reasons)}


def save_quality(doc: dict, out_dir: str) -> str:
    """Writes data_quality.json atomically (readers never see half a file)."""
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "data_quality.json")
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=1, default=str)
    os.replace(tmp, path)
    return path
