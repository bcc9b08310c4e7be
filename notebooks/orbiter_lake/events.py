"""Run-completion events and the streaming run-metrics job.

COMPLETION EVENT (the dispatcher writes exactly this; one JSON object per file)
  blob: events/run-completions/date=YYYY-MM-DD/<runId>.json   (date = ended_at's UTC date)

  {
    "event_version": 1,                         integer, this schema's version (bump on breaking change)
    "orbiter_run_id": "01J...",                 string, required: Orbiter's run id (OrbiterRuns row key)
    "job_name": "orbiter-neows-pipeline",       string, required: Databricks job name
    "dataset": "neows",                         string: source/dataset of the run (null for non-dataset jobs)
    "databricks_run_id": 123456789,             integer (a numeric string is accepted), required
    "result_state": "SUCCESS",                  string, required: SUCCESS | FAILED | TIMEDOUT | CANCELED | ...
                                                (unknown states are kept; only SUCCESS counts as a success)
    "termination_code": "SUCCESS",              string or null (Jobs API termination_details.code)
    "requested_at": "2026-11-24T14:00:00.000Z", ISO-8601 UTC string, required: when Orbiter requested the run
    "started_at": "2026-11-24T14:00:05.000Z",   ISO-8601 UTC string or null (never started)
    "ended_at": "2026-11-24T14:03:05.000Z",     ISO-8601 UTC string, required
    "duration_ms": 180000,                      integer or null: run duration (started_at..ended_at)
    "inputs": [                                 array (may be empty): the input_manifest files of the run
      {"container": "raw", "path": "neows/feed/2024/05/25/2024-05-25_2024-05-31.<sha16>.json", "etag": "0x..."}
    ],
    "attempt": 1,                               optional integer (1-based retry attempt)
    "traceparent": "00-...-...-01"              optional string (W3C trace context)
  }
  Extra fields are ignored. One event per Databricks run: (orbiter_run_id, databricks_run_id) identifies it, so
  a re-written or re-read event never counts twice.

METRICS (gold/run_metrics_hourly): per job_name and hour of ended_at (UTC): runs, succeeded, failed (any
non-SUCCESS state), success_rate, duration p50/p90/p95/max (ms). Kept by a Structured Streaming query
(availableNow or continuous) with its checkpoint in checkpoints/run_metrics/; each micro-batch MERGEs the new
events into silver/run_completions (dedup) and recomputes only the (job, hour) groups it touched, so replays
and re-runs never double count.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, StringType, StructField, StructType

from . import delta_io
from .lake import table_path, zone_path

EVENT_VERSION = 1
EVENTS_DIR = "run-completions"
EVENTS_TABLE = "run_completions"  # silver
METRICS_TABLE = "run_metrics_hourly"  # gold
EVENT_KEYS = ["orbiter_run_id", "databricks_run_id"]
METRIC_KEYS = ["job_name", "hour_start"]

# Numbers and timestamps are read as strings and converted, so a numeric string or a number both work.
COMPLETION_EVENT_SCHEMA = StructType(
    [
        StructField("event_version", StringType()),
        StructField("orbiter_run_id", StringType()),
        StructField("job_name", StringType()),
        StructField("dataset", StringType()),
        StructField("databricks_run_id", StringType()),
        StructField("result_state", StringType()),
        StructField("termination_code", StringType()),
        StructField("requested_at", StringType()),
        StructField("started_at", StringType()),
        StructField("ended_at", StringType()),
        StructField("duration_ms", StringType()),
        StructField(
            "inputs",
            ArrayType(StructType([StructField(n, StringType()) for n in ("container", "path", "etag")])),
        ),
        StructField("attempt", StringType()),
        StructField("traceparent", StringType()),
    ]
)


def typed_events(raw: DataFrame) -> DataFrame:
    """Raw event rows (COMPLETION_EVENT_SCHEMA + _source_file) -> typed rows; rows missing a required field get
    `_invalid` set (they are kept in the events table but not counted in metrics)."""
    started = F.col("started_at").try_cast("timestamp")
    ended = F.col("ended_at").try_cast("timestamp")
    duration = F.coalesce(
        F.col("duration_ms").try_cast("long"),
        ((F.unix_micros(ended) - F.unix_micros(started)) / 1000).cast("long"),
    )
    run_id = F.col("databricks_run_id").try_cast("long")
    missing = F.filter(
        F.array(
            *[
                F.when(cond, F.lit(name))
                for cond, name in [
                    (F.col("orbiter_run_id").isNull(), "orbiter_run_id"),
                    (F.col("job_name").isNull(), "job_name"),
                    (run_id.isNull(), "databricks_run_id"),
                    (F.col("result_state").isNull(), "result_state"),
                    (ended.isNull(), "ended_at"),
                ]
            ]
        ),
        lambda x: x.isNotNull(),
    )
    return raw.select(
        F.col("event_version").try_cast("int").alias("event_version"),
        F.coalesce(F.col("orbiter_run_id"), F.lit("")).alias("orbiter_run_id"),
        "job_name",
        "dataset",
        F.coalesce(run_id, F.lit(-1).cast("long")).alias("databricks_run_id"),
        F.upper(F.col("result_state")).alias("result_state"),
        "termination_code",
        F.col("requested_at").try_cast("timestamp").alias("requested_at"),
        started.alias("started_at"),
        ended.alias("ended_at"),
        duration.alias("duration_ms"),
        F.coalesce(F.col("inputs"), F.array().cast(COMPLETION_EVENT_SCHEMA["inputs"].dataType)).alias("inputs"),
        F.col("attempt").try_cast("int").alias("attempt"),
        "traceparent",
        F.col("_source_file"),
        F.when(F.size(missing) > 0, F.concat(F.lit("missing "), F.array_join(missing, ", "))).alias("_invalid"),
        F.current_timestamp().alias("_processed_at"),
    )


def hourly_metrics(events: DataFrame) -> DataFrame:
    valid = events.where(F.col("_invalid").isNull())
    ok = F.col("result_state") == "SUCCESS"
    return (
        valid.groupBy("job_name", F.date_trunc("hour", "ended_at").alias("hour_start"))
        .agg(
            F.first("dataset", ignorenulls=True).alias("dataset"),
            F.count("*").alias("runs"),
            F.count(F.when(ok, 1)).alias("succeeded"),
            F.count(F.when(~ok, 1)).alias("failed"),
            F.percentile("duration_ms", 0.5).alias("duration_p50_ms"),
            F.percentile("duration_ms", 0.9).alias("duration_p90_ms"),
            F.percentile("duration_ms", 0.95).alias("duration_p95_ms"),
            F.max("duration_ms").alias("duration_max_ms"),
        )
        .withColumn("success_rate", F.col("succeeded") / F.col("runs"))
        .withColumn("updated_at", F.current_timestamp())
    )


def process_batch(spark: SparkSession, batch: DataFrame, lake_root: str) -> None:
    """One micro-batch: dedup-insert events, then recompute the touched (job, hour) groups from all events."""
    events_path = table_path(lake_root, "silver", EVENTS_TABLE)
    metrics_path = table_path(lake_root, "gold", METRICS_TABLE)
    new = typed_events(batch).cache()
    try:
        if new.isEmpty():
            return
        delta_io.insert_new(spark, new, events_path, EVENT_KEYS)
        touched = (
            new.where(F.col("_invalid").isNull())
            .select("job_name", F.date_trunc("hour", "ended_at").alias("hour_start"))
            .distinct()
        )
        all_events = spark.read.format("delta").load(events_path)
        scoped = all_events.join(
            touched,
            (all_events.job_name == touched.job_name)
            & (F.date_trunc("hour", all_events.ended_at) == touched.hour_start),
            "left_semi",
        )
        metrics = hourly_metrics(scoped).withColumn("_version", F.lit(0))
        if delta_io.exists(spark, metrics_path):
            from delta.tables import DeltaTable

            (
                DeltaTable.forPath(spark, metrics_path)
                .alias("t")
                .merge(metrics.drop("_version").alias("s"), "t.job_name = s.job_name AND t.hour_start = s.hour_start")
                .whenMatchedUpdateAll()
                .whenNotMatchedInsertAll()
                .execute()
            )
        else:
            metrics.drop("_version").write.format("delta").save(metrics_path)
    finally:
        new.unpersist()


def read_events_stream(spark: SparkSession, lake_root: str, read_mode: str) -> DataFrame:
    src = zone_path(lake_root, "events", EVENTS_DIR)
    if read_mode == "autoloader":
        reader = (
            spark.readStream.format("cloudFiles")
            .option("cloudFiles.format", "json")
            .option("cloudFiles.maxFilesPerTrigger", 500)
        )
    else:
        reader = spark.readStream.format("json").option("recursiveFileLookup", "true").option("maxFilesPerTrigger", 500)
    return (
        reader.schema(COMPLETION_EVENT_SCHEMA)
        .option("multiLine", "true")  # the dispatcher may pretty-print
        .option("pathGlobFilter", "*.json")
        .load(src)
        .withColumn("_source_file", F.col("_metadata.file_path"))
    )


def run_metrics_stream(
    spark: SparkSession,
    lake_root: str,
    read_mode: str = "files",
    continuous: bool = False,
    processing_time: str = "1 minute",
):
    """Starts the metrics query. availableNow (default): processes what is there and returns when done.
    continuous=True: returns the running query (caller awaits/stops it). None when there are no events yet: the
    events folder only appears with the first completion event, and a fresh lake is not an error."""
    from pyspark.errors import AnalysisException

    try:
        return _start_metrics_query(spark, lake_root, read_mode, continuous, processing_time)
    except AnalysisException as exc:
        condition = exc.getCondition() if hasattr(exc, "getCondition") else exc.getErrorClass()
        if condition != "PATH_NOT_FOUND":
            raise
        print(f"run metrics: no completion events yet ({zone_path(lake_root, 'events', EVENTS_DIR)} does not exist)")
        return None


def _start_metrics_query(spark: SparkSession, lake_root: str, read_mode: str, continuous: bool, processing_time: str):
    stream = read_events_stream(spark, lake_root, read_mode)
    writer = (
        stream.writeStream.foreachBatch(lambda df, _id: process_batch(spark, df, lake_root))
        .option("checkpointLocation", zone_path(lake_root, "checkpoints", "run_metrics"))
        .queryName("orbiter_run_metrics")
    )
    if continuous:
        return writer.trigger(processingTime=processing_time).start()
    query = writer.trigger(availableNow=True).start()
    query.awaitTermination()
    return query


def metrics_summary(spark: SparkSession, lake_root: str) -> dict[str, int]:
    out = {}
    for zone, table in (("silver", EVENTS_TABLE), ("gold", METRICS_TABLE)):
        path = table_path(lake_root, zone, table)
        out[table] = spark.read.format("delta").load(path).count() if delta_io.exists(spark, path) else 0
    return out
