# Databricks notebook source
dbutils.widgets.text("source", "", "Dataset (unused)")
dbutils.widgets.text("lake_root", "", "Lake root")
dbutils.widgets.text("input_manifest", "", "Input manifest (unused)")
dbutils.widgets.text("orbiter_run_id", "", "Orbiter run id")
dbutils.widgets.text("traceparent", "", "W3C traceparent")
dbutils.widgets.text("output_dir", "", "Chart folder (empty: <lake_root>/../charts locally, none on Databricks)")

# COMMAND ----------

# MAGIC %md
# MAGIC # Visual insights
# MAGIC Headline figures, data quality per source and layer (gold/data_quality, gold/quarantine_reasons) and charts of
# MAGIC the gold tables. On Databricks they are shown with `display()`; locally they are also saved as
# MAGIC `headlines.json`, PNG files and an `index.html`, and the AI/BI dashboard's datasets (the same SQL the
# MAGIC bundle's dashboard runs on a SQL warehouse) are run on Spark into `datasets/<name>.json`.

# COMMAND ----------

import datetime as dt

import os

from orbiter_lake import charts, dashboard, gold_rows, headlines, quality
from orbiter_lake.notebook import default_charts_dir, exit_value, read_params
from orbiter_lake.spark_session import configure_run

params = read_params(dbutils, require_source=False)
params.log("visual_insights")
configure_run(spark)
out_dir = dbutils.widgets.get("output_dir").strip() or default_charts_dir(params.lake_root)

# COMMAND ----------

# Headline figures and charts share five gold tables: read every table the figures need once, side by side.
gold = gold_rows.read_many(spark, params.lake_root, headlines.TABLES)
facts = headlines.build_headlines(spark, params.lake_root, gold)
for h in facts:
    print(f"{h.label}: {h.value} ({h.detail})")
generated_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
headlines_file = headlines.save_headlines(facts, out_dir, generated_at) if out_dir else None

# COMMAND ----------

# Data quality per source and layer (rows, quarantined rows and reasons, newest ingested window): gold tables for
# SQL and dashboards, and data_quality.json locally for the local dashboard and `orbiter quality`.
dq_counts, dq_reasons, dq_doc = quality.build_quality(spark, params.lake_root, generated_at)
dq_written = quality.write_quality_tables(spark, params.lake_root, dq_counts, dq_reasons, generated_at)
for s in dq_doc["sources"]:
    layers = ", ".join(f"{k} {v['rows']}" for k, v in s["layers"].items())
    print(f"quality {s['source']}: {layers}, quarantined {s['quarantined']}")
quality_file = quality.save_quality(dq_doc, out_dir) if out_dir else None

# COMMAND ----------

figures = charts.build_charts(spark, params.lake_root, gold)
for chart in figures:
    display(chart.figure)
saved = charts.save_charts(figures, out_dir) if out_dir else []
charts.close(figures)
print(f"charts: {[c.name for c in figures]} saved: {saved}")

# COMMAND ----------

# On Databricks the dashboard itself runs these queries on its warehouse; locally they feed the local dashboard.
results = (
    dashboard.write_datasets(spark, params.lake_root, os.path.join(out_dir, "datasets"), generated_at)
    if out_dir
    else []
)
for r in results:
    print(
        f"dataset {r.name}: "
        + (
            f"{r.rows} rows" + (" (truncated)" if r.truncated else "")
            if r.path
            else f"skipped, missing {', '.join(r.missing_tables)}"
        )
    )

# COMMAND ----------

dbutils.notebook.exit(
    exit_value(
        params,
        stage="visual_insights",
        headlines=[h.key for h in facts],
        charts=[c.name for c in figures],
        quality=dq_written,
        files=saved + [f for f in (headlines_file, quality_file) if f],
        datasets={r.name: r.rows for r in results if r.path},
        datasets_skipped={r.name: list(r.missing_tables) for r in results if not r.path},
    )
)
