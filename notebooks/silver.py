# Databricks notebook source
dbutils.widgets.text("source", "", "Dataset")
dbutils.widgets.text("lake_root", "", "Lake root")
dbutils.widgets.text("input_manifest", "", "Input manifest (JSON)")
dbutils.widgets.text("orbiter_run_id", "", "Orbiter run id")
dbutils.widgets.text("traceparent", "", "W3C traceparent")

# COMMAND ----------

# MAGIC %md
# MAGIC # Silver: typed entities (MERGE on natural keys) + quarantine
# MAGIC Bad records land in `quarantine/records` with their reason. Logic: `orbiter_lake.silver`.

# COMMAND ----------

from orbiter_lake import silver
from orbiter_lake.notebook import exit_value, read_params
from orbiter_lake.spark_session import configure_run

params = read_params(dbutils)
params.log("silver")
configure_run(spark)

# COMMAND ----------

summary = silver.run_silver(spark, params.lake_root, params.source, params.input_manifest)
for entity, counts in summary.items():
    print(f"silver {entity}: {counts}")

# COMMAND ----------

dbutils.notebook.exit(exit_value(params, stage="silver", entities=summary))
