"""Small Delta helpers: idempotent inserts and versioned upserts addressed by path (no metastore needed)."""

from __future__ import annotations

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession

from . import layout


def exists(spark: SparkSession, path: str) -> bool:
    return DeltaTable.isDeltaTable(spark, path)


def _on(keys: list[str]) -> str:
    # <=> so that a null key part still matches itself (e.g. a missing orbiting body).
    return " AND ".join(f"t.`{k}` <=> s.`{k}`" for k in keys)


def insert_new(spark: SparkSession, df: DataFrame, path: str, keys: list[str]) -> None:
    """Insert rows whose key is not in the table yet (re-running over the same input adds nothing)."""
    df = df.dropDuplicates(keys)
    if not exists(spark, path):
        df.write.format("delta").mode("append").option("mergeSchema", "true").save(path)
        layout.on_created(spark, path)
        return
    (DeltaTable.forPath(spark, path).alias("t").merge(df.alias("s"), _on(keys)).whenNotMatchedInsertAll().execute())


def upsert_latest(
    spark: SparkSession, df: DataFrame, path: str, keys: list[str], version_col: str = "_version"
) -> None:
    """MERGE on natural keys; an existing row is replaced only by a strictly newer version (idempotent re-runs,
    and an older blob processed late never overwrites a newer one). df must hold one row per key."""
    if not exists(spark, path):
        df.write.format("delta").mode("append").save(path)
        layout.on_created(spark, path)
        return
    (
        DeltaTable.forPath(spark, path)
        .alias("t")
        .merge(df.alias("s"), _on(keys))
        .whenMatchedUpdateAll(condition=f"s.`{version_col}` > t.`{version_col}`")
        .whenNotMatchedInsertAll()
        .execute()
    )


def overwrite(df: DataFrame, path: str) -> None:
    created = not exists(df.sparkSession, path)
    df.write.format("delta").mode("overwrite").option("overwriteSchema", "true").save(path)
    if created:  # an overwrite keeps the properties set at creation
        layout.on_created(df.sparkSession, path)
