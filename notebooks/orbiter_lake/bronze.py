"""Bronze: raw NASA response bodies -> one Delta row per upstream record, with ingestion metadata and rescued
data. Idempotent: rows are keyed by (blob name, record index) and only inserted when new, so re-running over
the same files (or replaying a stream from a fresh checkpoint) adds no duplicates."""

from __future__ import annotations

import re
from dataclasses import replace

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import BinaryType, LongType, StringType, StructField, StructType, TimestampType

from . import delta_io
from .lake import BLOB_NAME_RE, LakeError, manifest_raw_paths, resolve_manifest, table_path, zone_path
from .sources import ARRAY, CMR_UMM, EONET, JPL_TABLE, NEOWS_FEED, StreamSpec, spec_for, streams_for

READ_MODES = ("autoloader", "files", "batch")
BINARY_FILE_SCHEMA = StructType(
    [
        StructField("path", StringType()),
        StructField("modificationTime", TimestampType()),
        StructField("length", LongType()),
        StructField("content", BinaryType()),
    ]
)
FILE_NAME_JAVA_RE = r"^(.+?)_(.+?)(?:\.p(\d{4}))?(?:\.([0-9a-f]{16}))?\.json$"
BRONZE_KEYS = ["_blob_name", "_record_index"]
RECORD_TYPE = "array<struct<g:string,p:string>>"


# --- reading ------------------------------------------------------------------------------------------------
def read_raw(spark: SparkSession, lake_root: str, source: str, read_mode: str, manifest: str | None) -> DataFrame:
    """Raw files of one source as binaryFile rows (path, modificationTime, length, content).

    A non-empty manifest (inline, or by reference to a manifest file in the lake) is read as a batch of exactly
    those files (targeted re-processing, any mode).
    Otherwise: "autoloader" = Databricks Auto Loader stream, "files" = open-source file-source stream
    (both incremental with a checkpoint, see run_bronze), "batch" = everything under raw/<source>/ once."""
    if read_mode not in READ_MODES:
        raise LakeError(f"read_mode must be one of {READ_MODES}, got {read_mode!r}")
    files = resolve_manifest(spark, lake_root, manifest)
    if files:
        paths = manifest_raw_paths(lake_root, files, source)
        if not paths:
            return spark.createDataFrame([], BINARY_FILE_SCHEMA)
        return spark.read.format("binaryFile").load(paths)
    root = zone_path(lake_root, "raw", source)
    if read_mode == "batch":
        return (
            spark.read.format("binaryFile")
            .option("recursiveFileLookup", "true")
            .option("pathGlobFilter", "*.json")
            .load(root)
        )
    if read_mode == "autoloader":
        # Auto Loader lists recursively by itself; its batch-size option has the cloudFiles. prefix.
        reader = (
            spark.readStream.format("cloudFiles")
            .option("cloudFiles.format", "binaryFile")
            .option("cloudFiles.maxFilesPerTrigger", 200)
        )
    else:
        reader = (
            spark.readStream.format("binaryFile")
            .schema(BINARY_FILE_SCHEMA)
            .option("recursiveFileLookup", "true")
            .option("maxFilesPerTrigger", 200)
        )
    return reader.option("pathGlobFilter", "*.json").load(root)


# --- transformation -----------------------------------------------------------------------------------------
def with_file_metadata(files: DataFrame, run_id: str | None) -> DataFrame:
    """Adds lineage columns derived from the path and content (blob name, source, stream, window, page, sha256)."""
    blob = F.regexp_extract("path", BLOB_NAME_RE, 1)
    name = F.try_element_at(F.split(blob, "/"), F.lit(-1))
    page = F.regexp_extract(name, FILE_NAME_JAVA_RE, 3)
    body = F.regexp_replace(F.decode("content", "UTF-8"), "^\ufeff", "")  # tolerate a UTF-8 BOM
    return files.select(
        F.col("path").alias("_source_file"),
        F.when(blob != "", blob).otherwise(F.col("path")).alias("_blob_name"),
        F.split(blob, "/").getItem(0).alias("_source"),
        F.split(blob, "/").getItem(1).alias("_stream"),
        F.nullif(F.regexp_extract(name, FILE_NAME_JAVA_RE, 1), F.lit("")).alias("_window_start"),
        F.nullif(F.regexp_extract(name, FILE_NAME_JAVA_RE, 2), F.lit("")).alias("_window_end"),
        F.when(page != "", page.try_cast("int")).alias("_page"),
        F.sha2(F.col("content"), 256).alias("_sha256"),
        F.col("modificationTime").alias("_landed_at"),
        F.current_timestamp().alias("_ingested_at"),
        F.lit(run_id or None).cast("string").alias("_orbiter_run_id"),
        body.alias("_body"),
    )


def _records(spec: StreamSpec, body: Column) -> Column:
    """array<struct<g: group, p: record JSON>> for a response body; null when the body does not parse."""

    def plain(arr: Column) -> Column:
        return F.transform(arr, lambda p: F.struct(F.lit(None).cast("string").alias("g"), p.alias("p")))

    if spec.kind == ARRAY:
        single = F.trim(body).startswith("{")  # APOD date/default responses are one object
        one = F.when(F.get_json_object(body, "$").isNotNull(), F.array(body))  # null (corrupt) when not JSON
        return plain(F.when(single, one).otherwise(F.from_json(body, "array<string>")))
    if spec.kind == NEOWS_FEED:
        feed = F.from_json(body, "struct<near_earth_objects: map<string, array<string>>>")
        by_day = feed["near_earth_objects"]
        return F.flatten(
            F.transform(
                F.map_entries(by_day),
                lambda e: F.transform(e["value"], lambda p: F.struct(e["key"].alias("g"), p.alias("p"))),
            )
        )
    if spec.kind == EONET:
        return plain(F.from_json(body, "struct<events: array<string>>")["events"])
    if spec.kind == CMR_UMM:
        return plain(F.from_json(body, "struct<items: array<string>>")["items"])
    if spec.kind == JPL_TABLE:
        table = F.from_json(body, "struct<fields: array<string>, data: array<array<string>>>")
        fields, data = table["fields"], F.coalesce(table["data"], F.array().cast("array<array<string>>"))
        row_json = lambda r: F.when(  # noqa: E731 - map cells to field names by position
            F.size(r) == F.size(fields), F.to_json(F.map_from_arrays(fields, r))
        ).otherwise(F.to_json(F.struct(r.alias("_unaligned_row"))))
        return F.when(fields.isNotNull(), plain(F.transform(data, row_json)))
    raise ValueError(f"unknown record kind {spec.kind}")


def rescued_data(payload: Column, expected: tuple[str, ...]) -> Column:
    """JSON object of the record's top-level fields we do not model (null when none)."""
    if not expected:
        return F.lit(None).cast("string")
    fields = F.from_json(payload, "map<string,string>")
    known = F.array(*[F.lit(x) for x in expected])
    extra = F.map_filter(fields, lambda k, v: ~F.array_contains(known, k))
    return F.when(F.size(extra) > 0, F.to_json(extra))


def to_bronze_records(files: DataFrame, spec: StreamSpec) -> DataFrame:
    """File rows (with_file_metadata) -> one row per record. A body that does not parse becomes one row with
    payload null and _corrupt_record set (silver quarantines it); an empty response adds no rows."""
    # Drop the body before exploding: every exploded row would otherwise carry the whole response (OOM on
    # a 1000-record page). Only a body that does not parse is kept, as _corrupt_record.
    recs = (
        files.withColumn("_recs", _records(spec, F.col("_body")))
        .withColumn("_corrupt_record", F.when(F.col("_recs").isNull(), F.col("_body")))
        .drop("_body")
        .where(F.col("_recs").isNull() | (F.size("_recs") > 0))
    )
    exploded = recs.select("*", F.posexplode_outer("_recs").alias("_pos", "_rec")).drop("_recs")
    return exploded.select(
        *[c for c in files.columns if c != "_body"],
        F.when(F.col("_corrupt_record").isNotNull(), F.lit(-1)).otherwise(F.col("_pos")).alias("_record_index"),
        F.col("_rec.g").alias("_record_group"),
        F.col("_rec.p").alias("payload"),
        rescued_data(F.col("_rec.p"), spec.expected_fields).alias("_rescued_data"),
        "_corrupt_record",
    )


def fallback_spec(source: str, stream: str) -> StreamSpec:
    """Streams we do not model yet still land in bronze (array bodies), so nothing is skipped silently."""
    table = re.sub(r"[^a-z0-9]+", "_", f"{source}_{stream}".lower()).strip("_")
    return StreamSpec(source, stream, table, ARRAY, ())


def write_bronze_batch(
    spark: SparkSession,
    files: DataFrame,
    lake_root: str,
    source: str,
    run_id: str | None,
    stats: dict[str, int] | None = None,
) -> dict[str, int]:
    """Lands one batch of raw files into the source's bronze tables; returns file counts per table. stats, when
    given, accumulates "bytes_read" (raw bytes of the batch: the run's input size for the cost report)."""
    meta = with_file_metadata(files, run_id).where(F.col("_source") == source).cache()
    try:
        if stats is not None:
            size = (
                files.where(F.regexp_extract("path", BLOB_NAME_RE, 1).startswith(f"{source}/"))
                .agg(F.sum("length"))
                .first()[0]
            )
            stats["bytes_read"] = stats.get("bytes_read", 0) + int(size or 0)
        streams = [r["_stream"] for r in meta.select("_stream").distinct().collect()]
        by_table: dict[str, tuple[StreamSpec, list[str]]] = {}
        for stream in streams:
            spec = spec_for(source, stream) or fallback_spec(source, stream)
            by_table.setdefault(spec.bronze_table, (replace(spec, stream=None), []))[1].append(stream)
        counts = {}
        for table, (spec, table_streams) in sorted(by_table.items()):
            part = meta.where(F.col("_stream").isin(table_streams))
            delta_io.insert_new(
                spark, to_bronze_records(part, spec), table_path(lake_root, "bronze", table), BRONZE_KEYS
            )
            counts[table] = part.count()
        return counts
    finally:
        meta.unpersist()


def run_bronze(
    spark: SparkSession,
    lake_root: str,
    source: str,
    read_mode: str = "files",
    manifest: str | None = None,
    run_id: str | None = None,
    stats: dict[str, int] | None = None,
) -> dict[str, int]:
    """Bronze for one source. Streams (autoloader/files) run availableNow with a checkpoint under
    checkpoints/bronze_<source>_<mode>/; manifest or batch mode processes the given files directly."""
    raw = read_raw(spark, lake_root, source, read_mode, manifest)
    totals: dict[str, int] = {}

    def add(counts: dict[str, int]) -> None:
        for k, v in counts.items():
            totals[k] = totals.get(k, 0) + v

    if not raw.isStreaming:
        add(write_bronze_batch(spark, raw, lake_root, source, run_id, stats))
        return totals
    checkpoint = zone_path(lake_root, "checkpoints", f"bronze_{source}_{read_mode}")
    query = (
        raw.writeStream.foreachBatch(
            lambda df, _id: add(write_bronze_batch(spark, df, lake_root, source, run_id, stats))
        )
        .option("checkpointLocation", checkpoint)
        .trigger(availableNow=True)
        .start()
    )
    query.awaitTermination()
    return totals


def bronze_tables(source: str) -> list[str]:
    return [s.bronze_table for s in streams_for(source)]
