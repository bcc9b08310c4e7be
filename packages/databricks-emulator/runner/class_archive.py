#!/usr/bin/env python3
"""Makes the class-data-sharing archive that local Spark JVMs map at start (see spark_session.py).

    .venv/bin/python packages/databricks-emulator/runner/class_archive.py [--force] [--dir DIR]

A training JVM runs a small Spark + Delta workload (JSON, MERGE, clustering, OPTIMIZE, VACUUM: what the notebooks
do) with -XX:ArchiveClassesAtExit and exits normally, which writes the archive. It is written under a temporary
name, checked by a JVM that must map it (-Xshare:on with the training JVM's class path), and only then renamed into
place with a stamp of its size. Archives of other JDKs or jars in the folder are removed. Exit status 0 when the
archive is there (made now or before), 1 with the reason on stderr otherwise: Spark still starts without it.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_notebook  # noqa: E402  (loads the repository's spark_session.py)

sys.path.pop(0)

JVM_EXIT_TIMEOUT_S = 300  # writing ~180 MB of class data takes 5-15 s on 2 cores
# The training JVM lists every class it cannot archive (signed jars, old bytecode, generated classes) as a warning.
QUIET = "-Xlog:cds*=error"


class ArchiveError(Exception):
    pass


def train(spark: Any, workdir: str) -> None:
    """Spark + Delta operations the pipelines use, on a few rows: each loads the classes it needs."""
    from delta.tables import DeltaTable
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    raw = os.path.join(workdir, "raw")
    os.makedirs(raw)
    with open(os.path.join(raw, "a.json"), "w", encoding="utf-8") as fh:
        fh.write('[{"id": "1", "t": "2024-05-01T14:17Z", "v": "1.5", "tags": [{"k": "x"}]}, {"id": "2", "v": "n"}]')
    with open(os.path.join(raw, "b.json"), "w", encoding="utf-8") as fh:
        fh.write("{not json")
    schema = "id string, t string, v string, tags array<struct<k:string>>, _corrupt_record string"
    df = (
        spark.read.schema(schema)
        .option("multiLine", "true")
        .option("columnNameOfCorruptRecord", "_corrupt_record")
        .json(raw)
        .withColumn("_file", F.col("_metadata.file_path"))
        .withColumn("payload", F.to_json(F.struct("id", "t", "v", "tags")))
    )
    parsed = df.select(
        "*",
        F.from_json(
            "payload",
            "struct<id:string, t:string, v:string, tags:array<struct<k:string>>>",
        ).alias("p"),
    )
    typed = parsed.select(
        F.col("p.id").alias("id"),
        F.regexp_replace("p.t", r"T(\d{2}:\d{2})Z$", "T$1:00Z").try_cast("timestamp").alias("t"),
        F.trim("p.v").try_cast("double").alias("v"),
        F.explode_outer("p.tags").alias("tag"),
        F.filter(
            F.array(F.when(F.col("p.v") == "n", F.lit("v not numeric"))),
            lambda m: m.isNotNull(),
        ).alias("r"),
        F.sha2("payload", 256).alias("sha"),
        F.current_timestamp().alias("at"),
    )
    w = Window.partitionBy("id").orderBy(F.col("at").desc())
    latest = typed.withColumn("rank", F.row_number().over(w)).where("rank = 1").drop("rank").cache()
    latest.count()
    path = os.path.join(workdir, "silver")
    props = {
        "delta.autoOptimize.optimizeWrite": "true",
        "delta.autoOptimize.autoCompact": "true",
    }
    latest.write.format("delta").mode("append").options(**props).save(path)
    spark.sql(f"ALTER TABLE delta.`{path}` CLUSTER BY (id)")
    spark.sql(f"DESCRIBE DETAIL delta.`{path}`").collect()
    for _ in range(2):
        (
            DeltaTable.forPath(spark, path)
            .alias("t")
            .merge(latest.alias("s"), "t.id <=> s.id")
            .whenMatchedUpdateAll(condition="s.at > t.at")
            .whenNotMatchedInsertAll()
            .execute()
        )
    latest.unpersist()
    table = spark.read.format("delta").load(path)
    table.join(typed.select("id", "sha"), ["id"], "left").groupBy("id").agg(F.count(F.lit(1)).alias("n")).orderBy(
        F.col("n").desc()
    ).limit(5).collect()
    gold = os.path.join(workdir, "gold")
    table.groupBy(F.year("t").alias("y")).agg(F.sum("v").alias("s")).write.format("delta").mode("overwrite").save(gold)
    spark.sql(f"SELECT y, s FROM delta.`{gold}` WHERE y IS NOT NULL ORDER BY y").collect()
    DeltaTable.isDeltaTable(spark, gold)
    spark.sql(f"OPTIMIZE delta.`{path}`").collect()
    DeltaTable.forPath(spark, path).vacuum(168)


def stop_jvm(spark: Any) -> int:
    """Stops Spark and lets its JVM exit normally (it writes the archive as it exits); returns the exit status."""
    from pyspark import SparkContext

    gateway = SparkContext._gateway
    spark.stop()
    if gateway is None:
        raise ArchiveError("the Spark JVM has no gateway to close")
    proc = gateway.proc
    gateway.shutdown()
    proc.stdin.close()  # the gateway server exits on end of stdin
    try:
        return proc.wait(timeout=JVM_EXIT_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        proc.kill()
        raise ArchiveError(f"the training JVM did not exit within {JVM_EXIT_TIMEOUT_S} s") from exc


def check(java: str, archive: str, class_path: str) -> None:
    """A JVM with the training JVM's class path must map the archive (-Xshare:on fails otherwise)."""
    done = subprocess.run(
        [
            java,
            f"-XX:SharedArchiveFile={archive}",
            "-Xshare:on",
            "-cp",
            class_path,
            "-version",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise ArchiveError(f"a JVM cannot map the archive: {(done.stderr or done.stdout).strip()[-600:]}")


def build(archive_dir: str | None = None, force: bool = False) -> str:
    from pyspark import SparkContext

    if SparkContext._active_spark_context is not None:
        # getOrCreate would hand back that session, and stopping its JVM would stop someone else's Spark.
        raise ArchiveError("the archive must be made in a process of its own: this one already runs Spark")
    ss = run_notebook.spark_session_module()
    ss.ensure_supported_java()
    java = ss.java_binary()
    if java is None:
        raise ArchiveError("no java found (JAVA_HOME or PATH)")
    archive_dir = archive_dir or ss.default_class_archive_dir()
    target = ss.class_archive_path(java, ss.spark_jars(), archive_dir)
    if not force and ss.usable_class_archive(target):
        return target
    os.makedirs(archive_dir, exist_ok=True)
    tmp = f"{target}.{os.getpid()}.tmp"
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="orbiter-class-archive-") as workdir:
            spark = ss.local_spark(
                "orbiter-class-archive",
                extra_java_options=f"-XX:ArchiveClassesAtExit={tmp} {QUIET}",
                use_class_archive=False,  # the training JVM maps no archive of its own
            )
            class_path = spark._jvm.java.lang.System.getProperty("java.class.path")
            train(spark, workdir)
            status = stop_jvm(spark)
        if status != 0 or not os.path.isfile(tmp):
            raise ArchiveError(f"the training JVM exited with {status} and wrote no archive")
        check(java, tmp, class_path)
        size = os.path.getsize(tmp)
        os.replace(tmp, target)
        with open(f"{target}.json.tmp", "w", encoding="utf-8") as fh:
            stamp = {
                "size": size,
                "java": java,
                "class_path": class_path,
                "seconds": round(time.monotonic() - started, 1),
            }
            json.dump(stamp, fh)
        os.replace(f"{target}.json.tmp", f"{target}.json")
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    for stale in glob.glob(os.path.join(archive_dir, "spark-*.jsa*")):
        if not stale.startswith(target):
            os.remove(stale)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--force", action="store_true", help="make it again even if it is up to date")
    parser.add_argument(
        "--dir",
        default=None,
        help="folder of the archive (default: .orbiter/class-archive)",
    )
    args = parser.parse_args(argv)
    try:
        path = build(args.dir, args.force)
    except Exception as exc:  # noqa: BLE001 - any failure leaves Spark working without the archive
        print(f"class archive not made: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"class archive: {path} ({os.path.getsize(path) / 2**20:.0f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
