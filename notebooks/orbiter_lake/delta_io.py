"""Small Delta helpers: idempotent inserts and versioned upserts addressed by path (no metastore needed)."""

from __future__ import annotations

import random
import time
from typing import Callable

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession

from . import layout


def exists(spark: SparkSession, path: str) -> bool:
    return DeltaTable.isDeltaTable(spark, path)


def _on(keys: list[str]) -> str:
    # <=> so that a null key part still matches itself (e.g. a missing orbiting body).
    return " AND ".join(f"t.`{k}` <=> s.`{k}`" for k in keys)


def _create(spark: SparkSession, df: DataFrame, path: str, mode: str, **options: str) -> None:
    """Writes the table's first version with its layout (properties in the same commit, then clustering)."""
    df.write.format("delta").mode(mode).options(**options, **layout.creation_options(spark, path)).save(path)
    layout.on_created(spark, path)


def insert_new(spark: SparkSession, df: DataFrame, path: str, keys: list[str]) -> None:
    """Insert rows whose key is not in the table yet (re-running over the same input adds nothing)."""
    df = df.dropDuplicates(keys)
    if not exists(spark, path):
        _create(spark, df, path, "append", mergeSchema="true")
        return
    (DeltaTable.forPath(spark, path).alias("t").merge(df.alias("s"), _on(keys)).whenNotMatchedInsertAll().execute())


def upsert_latest(
    spark: SparkSession, df: DataFrame, path: str, keys: list[str], version_col: str = "_version"
) -> None:
    """MERGE on natural keys; an existing row is replaced only by a strictly newer version (idempotent re-runs,
    and an older blob processed late never overwrites a newer one). df must hold one row per key."""
    if not exists(spark, path):
        _create(spark, df, path, "append")
        return
    (
        DeltaTable.forPath(spark, path)
        .alias("t")
        .merge(df.alias("s"), _on(keys))
        .whenMatchedUpdateAll(condition=f"s.`{version_col}` > t.`{version_col}`")
        .whenNotMatchedInsertAll()
        .execute()
    )


# Delta's optimistic-concurrency conflicts (io.delta.exceptions.*): another writer committed first. Retrying the
# whole write reads the newer table state, so the last writer's complete result wins.
_CONFLICTS = (
    "ConcurrentAppendException",
    "ConcurrentDeleteReadException",
    "ConcurrentDeleteDeleteException",
    "ConcurrentTransactionException",
    "MetadataChangedException",
    "ProtocolChangedException",
    "DELTA_CONCURRENT_",
    "DELTA_PROTOCOL_CHANGED",
    "DELTA_METADATA_CHANGED",
)


def is_write_conflict(exc: BaseException) -> bool:
    return any(name in str(exc) for name in _CONFLICTS)


def retry_conflicts(write: Callable[[], None], attempts: int = 5, sleep: Callable[[float], None] = time.sleep) -> None:
    """Runs `write`, again after a Delta write conflict (with jittered backoff), at most `attempts` times."""
    for attempt in range(1, attempts + 1):
        try:
            write()
            return
        except Exception as exc:  # noqa: BLE001 - only conflicts are retried, the rest re-raised
            if attempt == attempts or not is_write_conflict(exc):
                raise
            sleep(min(8.0, 0.5 * 2 ** (attempt - 1)) * (0.5 + random.random()))


def overwrite(df: DataFrame, path: str) -> int:
    """Replace a table's content; returns the rows written. Tables fed by several pipelines (e.g. imagery from cmr
    and epic) can be written by two runs at once: a conflicting commit is retried, recomputing `df` from the current
    inputs."""
    spark = df.sparkSession
    written = 0

    def write() -> None:
        nonlocal written
        # Counted from the cached result rather than by reading the table back (a Delta snapshot per table).
        data = df.persist()
        try:
            written = data.count()
            if exists(spark, path):  # an overwrite keeps the properties set at creation
                data.write.format("delta").mode("overwrite").option("overwriteSchema", "true").save(path)
            else:
                _create(spark, data, path, "overwrite", overwriteSchema="true")
        finally:
            data.unpersist()

    retry_conflicts(write)
    return written
