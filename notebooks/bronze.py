# Databricks notebook source
dbutils.widgets.text("source", "", "Dataset")
dbutils.widgets.text("lake_root", "", "Lake root")
dbutils.widgets.text("input_manifest", "", "Input manifest (JSON)")
dbutils.widgets.text("orbiter_run_id", "", "Orbiter run id")
dbutils.widgets.text("traceparent", "", "W3C traceparent")
dbutils.widgets.text("read_mode", "", "Read mode (autoloader|files|batch; empty = by platform)")

# COMMAND ----------

# MAGIC %md
# MAGIC # Bronze: raw NASA responses to Delta
# MAGIC One row per upstream record with ingestion metadata (source file, ingested at, window, sha256) and rescued
# MAGIC data. Re-running over the same files adds no rows. Logic: `orbiter_lake.bronze`.

# COMMAND ----------

from orbiter_lake import bronze
from orbiter_lake.notebook import exit_value, read_params
from orbiter_lake.spark_session import configure_run

params = read_params(dbutils)
params.log("bronze")
configure_run(spark)

# COMMAND ----------

stats = {}
files_per_table = bronze.run_bronze(
    spark, params.lake_root, params.source, params.read_mode, params.input_manifest, params.orbiter_run_id, stats
)
print(f"bronze {params.source}: files per table {files_per_table}")

# COMMAND ----------

dbutils.notebook.exit(exit_value(params, stage="bronze", files=files_per_table, bytes_read=stats.get("bytes_read", 0)))
