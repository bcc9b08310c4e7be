"""Rows of the small gold tables the insights are drawn from, read once for everything built from them (headline
figures and charts share five tables), side by side."""

from __future__ import annotations

from typing import Iterable, Mapping

from pyspark.sql import SparkSession

from . import delta_io
from .concurrent_queries import map_queries
from .lake import table_path

Rows = list[dict]


def read(spark: SparkSession, lake_root: str, table: str, limit: int | None = None) -> Rows | None:
    """A gold table's rows as dicts (at most `limit`), or None when the table does not exist."""
    path = table_path(lake_root, "gold", table)
    if not delta_io.exists(spark, path):
        return None
    df = spark.read.format("delta").load(path)
    return [r.asDict() for r in (df if limit is None else df.limit(limit)).collect()]


def read_many(
    spark: SparkSession, lake_root: str, tables: Iterable[str], limit: int | None = None
) -> dict[str, Rows | None]:
    names = sorted(set(tables))
    return dict(zip(names, map_queries(spark, lambda t: read(spark, lake_root, t, limit), names)))


def rows_of(
    spark: SparkSession,
    lake_root: str,
    tables: Iterable[str],
    known: Mapping[str, Rows | None] | None,
    limit: int | None = None,
) -> dict[str, Rows | None]:
    """The rows of `tables`: those in `known` (already read) as they are, at most `limit` of them, the rest read."""
    tables, known = list(tables), known or {}
    rows = read_many(spark, lake_root, [t for t in tables if t not in known], limit)
    for t in tables:
        if t in known:
            have = known[t]
            rows[t] = have if have is None or limit is None else have[:limit]
    return rows
