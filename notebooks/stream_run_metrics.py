# Databricks notebook source
dbutils.widgets.text("source", "", "Dataset (unused)")
dbutils.widgets.text("lake_root", "", "Lake root")
dbutils.widgets.text("input_manifest", "", "Input manifest (unused)")
dbutils.widgets.text("orbiter_run_id", "", "Orbiter run id")
dbutils.widgets.text("traceparent", "", "W3C traceparent")
dbutils.widgets.text("read_mode", "", "Read mode (autoloader|files; empty = by platform)")
dbutils.widgets.dropdown("trigger", "availableNow", ["availableNow", "continuous"], "Trigger")

# COMMAND ----------

# MAGIC %md
# MAGIC # Run metrics stream over completion events
# MAGIC Reads `events/run-completions/` (schema documented in `orbiter_lake.events`), keeps `silver/run_completions`
# MAGIC and `gold/run_metrics_hourly` (runs, success rate, duration percentiles per job per hour) with a checkpoint.

# COMMAND ----------

from orbiter_lake import events
from orbiter_lake.notebook import exit_value, read_params
from orbiter_lake.spark_session import configure_run

params = read_params(dbutils, require_source=False)
params.log("stream_run_metrics")
configure_run(spark)
mode = "files" if params.read_mode == "batch" else params.read_mode

# COMMAND ----------

if dbutils.widgets.get("trigger") == "continuous":
    query = events.run_metrics_stream(spark, params.lake_root, mode, continuous=True)
    if query is not None:  # None: no events folder yet (the job restarts the stream later)
        query.awaitTermination()  # runs until the job is cancelled
else:
    events.run_metrics_stream(spark, params.lake_root, mode)
counts = events.metrics_summary(spark, params.lake_root)
print(f"run metrics: {counts}")

# COMMAND ----------

dbutils.notebook.exit(exit_value(params, stage="stream_run_metrics", tables=counts))
