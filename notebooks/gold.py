# Databricks notebook source
dbutils.widgets.text("source", "", "Dataset")
dbutils.widgets.text("lake_root", "", "Lake root")
dbutils.widgets.text("input_manifest", "", "Input manifest (JSON)")
dbutils.widgets.text("orbiter_run_id", "", "Orbiter run id")
dbutils.widgets.text("traceparent", "", "W3C traceparent")

# COMMAND ----------

# MAGIC %md
# MAGIC # Gold: insight tables for one dataset
# MAGIC Recomputed from silver on every run (small aggregates). Logic: `orbiter_lake.gold`.

# COMMAND ----------

from orbiter_lake import gold
from orbiter_lake.notebook import exit_value, read_params
from orbiter_lake.spark_session import configure_run

params = read_params(dbutils)
params.log("gold")
configure_run(spark)

# COMMAND ----------

written = gold.run_gold(spark, params.lake_root, params.source)
for table, rows in written.items():
    print(f"gold {table}: {rows} rows")

# COMMAND ----------

dbutils.notebook.exit(exit_value(params, stage="gold", tables=written))
