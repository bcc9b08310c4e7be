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
# MAGIC Charts of the gold tables. On Databricks they are shown with `display()`; locally they are also saved as
# MAGIC PNG files plus an `index.html`.

# COMMAND ----------

from orbiter_lake import charts
from orbiter_lake.notebook import default_charts_dir, exit_value, read_params
from orbiter_lake.spark_session import configure_run

params = read_params(dbutils, require_source=False)
params.log("visual_insights")
configure_run(spark)
out_dir = dbutils.widgets.get("output_dir").strip() or default_charts_dir(params.lake_root)

# COMMAND ----------

figures = charts.build_charts(spark, params.lake_root)
for chart in figures:
    display(chart.figure)
saved = charts.save_charts(figures, out_dir) if out_dir else []
charts.close(figures)
print(f"charts: {[c.name for c in figures]} saved: {saved}")

# COMMAND ----------

dbutils.notebook.exit(exit_value(params, stage="visual_insights", charts=[c.name for c in figures], files=saved))
