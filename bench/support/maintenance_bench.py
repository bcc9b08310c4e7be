"""Maintenance benchmark (npm run bench -- --only maintenance): N event-driven runs of one dataset into two lakes
side by side, one as the pipelines wrote tables before (no layout, no maintenance), one with the table layout
(optimized writes, auto compaction, liquid clustering) and the scheduled maintenance job. Landing i goes to both
lakes back to back, so machine load hits both alike. Prints one JSON document on stdout (the last line).

Data: synthetic fireball landings (JPL table format) generated here, `--records` rows each, unique peak times."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "notebooks"))

from orbiter_lake import bronze, gold, layout, maintenance, silver  # noqa: E402
from orbiter_lake.spark_session import local_spark  # noqa: E402

FIELDS = ["date", "energy", "impact-e", "lat", "lat-dir", "lon", "lon-dir", "alt", "vel"]
SOURCE = "fireball"
TABLES = [("bronze", "fireball"), ("silver", "fireballs"), ("gold", "fireball_energy_yearly")]


def landing(i: int, records: int) -> tuple[str, bytes]:
    """Blob name and body of landing i: `records` fireballs, 7 hours apart, continuing where landing i-1 ended."""
    start = datetime(2020, 1, 1, tzinfo=timezone.utc) + timedelta(hours=7 * records * i)
    rows = []
    for j in range(records):
        t = start + timedelta(hours=7 * j, seconds=(i * 31 + j * 17) % 60)
        k = i * records + j
        rows.append(
            [
                t.strftime("%Y-%m-%d %H:%M:%S"),
                f"{1 + k % 97 / 10:.1f}",
                f"{0.05 + k % 13 / 100:.2f}",
                f"{k % 80}.5",
                "N" if k % 2 else "S",
                f"{k % 170}.2",
                "E" if k % 3 else "W",
                f"{20 + k % 40}.0",
                f"{11 + k % 20}.4",
            ]
        )
    body = json.dumps(
        {"signature": {"version": "1.2", "source": "synthetic"}, "count": str(records), "fields": FIELDS, "data": rows}
    ).encode()
    ws, we = start.strftime("%Y-%m-%d"), (start + timedelta(hours=7 * records)).strftime("%Y-%m-%d")
    sha16 = hashlib.sha256(body).hexdigest()[:16]
    return f"{SOURCE}/{SOURCE}/{ws[:4]}/{ws[5:7]}/{ws[8:10]}/{ws}_{we}.p{i % 10000:04d}.{sha16}.json", body


def event_run(spark, root: str, blob: str, with_gold: bool) -> float:
    """One dispatcher-started run (manifest = the one landed file): bronze -> silver (-> gold). Returns silver seconds."""
    manifest = json.dumps({"files": [{"container": "raw", "path": blob}]})
    bronze.run_bronze(spark, root, SOURCE, "files", manifest)
    t = time.perf_counter()
    silver.run_silver(spark, root, SOURCE, manifest)
    merge = time.perf_counter() - t
    if with_gold:
        gold.run_gold(spark, root, SOURCE)
    return merge


def gold_query(spark, root: str) -> float:
    """The gold query of the dataset (yearly energy over silver fireballs) + a selective read on the clustering key."""
    t = time.perf_counter()
    f = spark.read.format("delta").load(os.path.join(root, "silver", "fireballs"))
    gold.fireball_energy_yearly(f).collect()
    f.where("peak_at >= '2021-03-01' AND peak_at < '2021-04-01'").count()
    return time.perf_counter() - t


def table_figures(spark, root: str) -> dict[str, dict[str, int]]:
    out = {}
    for zone, table in TABLES:
        path = os.path.join(root, zone, table)
        files, size = maintenance.active_files(spark, path)
        disk_files, disk_bytes = maintenance.disk_usage(spark, path)
        out[f"{zone}/{table}"] = {
            "files": files,
            "bytes": size,
            "files_on_disk": disk_files,
            "bytes_on_disk": disk_bytes,
        }
    return out


def median_query(spark, root: str, reps: int) -> float:
    gold_query(spark, root)  # warm-up: first read of a table pays the log replay and the JIT
    return statistics.median(gold_query(spark, root) for _ in range(reps))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--records", type=int, default=20)
    ap.add_argument("--maintain-every", type=int, default=50, help="runs between scheduled maintenance runs")
    ap.add_argument("--query-reps", type=int, default=5)
    ap.add_argument("--gold-every", type=int, default=1, help="recompute gold every k runs (and always after the last)")
    args = ap.parse_args()
    if args.runs < 10 or args.records < 1 or args.maintain_every < 1:
        ap.error("--runs must be >= 10, --records and --maintain-every >= 1")
    spark = local_spark("orbiter-bench-maintenance")
    work = tempfile.mkdtemp(prefix="orbiter-bench-maint-")
    lakes = {"unmaintained": os.path.join(work, "plain", "lake"), "maintained": os.path.join(work, "maint", "lake")}
    merges: dict[str, list[float]] = {k: [] for k in lakes}
    maint_seconds = []
    started = time.perf_counter()
    try:
        for i in range(args.runs):
            blob, body = landing(i, args.records)
            for variant, root in lakes.items():
                path = os.path.join(root, "raw", blob)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "wb") as fh:
                    fh.write(body)
                spark.conf.set(layout.LAYOUT_CONF, "on" if variant == "maintained" else "off")
                with_gold = (i + 1) % args.gold_every == 0 or i + 1 == args.runs
                merges[variant].append(event_run(spark, root, blob, with_gold))
            if (i + 1) % args.maintain_every == 0 and i + 1 < args.runs:
                t = time.perf_counter()
                maintenance.run_maintenance(spark, lakes["maintained"], SOURCE)
                maint_seconds.append(time.perf_counter() - t)
            if (i + 1) % 5 == 0:
                print(f"run {i + 1}/{args.runs}", file=sys.stderr, flush=True)
        spark.conf.set(layout.LAYOUT_CONF, "on")
        before = {k: table_figures(spark, r) for k, r in lakes.items()}
        t = time.perf_counter()
        maintenance.run_maintenance(spark, lakes["maintained"], SOURCE)  # the scheduled job, 7-day retention
        maint_seconds.append(time.perf_counter() - t)
        after_job = table_figures(spark, lakes["maintained"])
        query = {k: median_query(spark, r, args.query_reps) for k, r in lakes.items()}
        # "A week later": VACUUM once the retention has passed (simulated with retention 0 in this throw-away lake).
        for zone, table in TABLES:
            maintenance.vacuum(spark, os.path.join(lakes["maintained"], zone, table), 0, below_floor_for_tests=True)
        week_later = table_figures(spark, lakes["maintained"])
        decile = max(1, args.runs // 10)

        def growth(xs: list[float]) -> dict[str, float]:
            first, last = statistics.mean(xs[:decile]), statistics.mean(xs[-decile:])
            return {"first_decile_s": round(first, 3), "last_decile_s": round(last, 3), "ratio": round(last / first, 2)}

        doc = {
            "runs": args.runs,
            "records_per_run": args.records,
            "maintain_every": args.maintain_every,
            "gold_every": args.gold_every,
            "tables": {
                "unmaintained": before["unmaintained"],
                "maintained_before_job": before["maintained"],
                "maintained": after_job,
                "maintained_week_later": week_later,
            },
            "query_s": {k: round(v, 4) for k, v in query.items()},
            "merge": {k: growth(v) for k, v in merges.items()},
            "maintenance_job_s": [round(s, 2) for s in maint_seconds],
            "wall_s": round(time.perf_counter() - started, 1),
        }
        print(json.dumps(doc))
    finally:
        spark.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
