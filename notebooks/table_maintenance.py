# Databricks notebook source
dbutils.widgets.text("source", "all", "Dataset (all = every table)")
dbutils.widgets.text("lake_root", "", "Lake root")
dbutils.widgets.text("input_manifest", "", "Input manifest (unused)")
dbutils.widgets.text("orbiter_run_id", "", "Orbiter run id")
dbutils.widgets.text("traceparent", "", "W3C traceparent")
dbutils.widgets.text("vacuum_retention_hours", "168", "VACUUM retention (hours, >= 168)")

# COMMAND ----------

# MAGIC %md
# MAGIC # Table maintenance: layout, OPTIMIZE, VACUUM, statistics
# MAGIC Every Delta table of the lake (or of one dataset): table properties and liquid clustering keys when they
# MAGIC differ, OPTIMIZE (compaction + clustering), VACUUM with a retention of at least 7 days, statistics on
# MAGIC Databricks. Logic: `orbiter_lake.maintenance` and `orbiter_lake.layout`; docs/optimization.md.

# COMMAND ----------

import json

from orbiter_lake import maintenance
from orbiter_lake.notebook import exit_value, read_params
from orbiter_lake.spark_session import configure_run

params = read_params(dbutils, require_source=False)
params.log("table_maintenance")
configure_run(spark)
retention = maintenance.parse_retention(dbutils.widgets.get("vacuum_retention_hours"))

# COMMAND ----------

reports = maintenance.run_maintenance(spark, params.lake_root, params.source or "all", retention)
for r in reports:
    print(
        json.dumps(
            {k: r[k] for k in ("zone", "table", "files_before", "files_after", "layout_changes", "statistics", "error")}
        )
    )
totals = maintenance.summary(reports)
print(f"maintenance: {totals}")
failed = [f"{r['zone']}/{r['table']}: {r['error']}" for r in reports if r["error"]]
if failed:
    raise RuntimeError(f"maintenance failed for {len(failed)} table(s): " + "; ".join(failed))

# COMMAND ----------

dbutils.notebook.exit(exit_value(params, stage="table_maintenance", totals=totals, tables=reports))
