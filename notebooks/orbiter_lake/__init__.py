"""Orbiter lake: the PySpark/Delta transformations behind the Databricks notebooks (bronze, silver, gold,
run-metrics stream, charts). Notebooks stay thin; everything testable lives here."""

__version__ = "0.1.0"
