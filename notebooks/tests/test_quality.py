"""Data quality per source and layer: the summary on hand-made counts (no Spark) and the tables on the fixture lake."""

import json

from orbiter_lake import quality
from orbiter_lake.quality import ReasonCount, TableCount


def test_summary_totals_layers_and_ranks_reasons():
    counts = [
        TableCount("donki", "bronze", "donki_flr", 10, newest_window_end="2024-05-12"),
        TableCount("donki", "bronze", "donki_gst", 4, newest_window_end="2024-05-31"),
        TableCount("donki", "silver", "solar_flares", 7, quarantined=3),
        TableCount("donki", "gold", "flare_class_monthly", None),
    ]
    reasons = [
        ReasonCount("donki", "solar_flares", "classType missing", 1),
        ReasonCount("donki", "solar_flares", "peakTime not a time", 2),
        ReasonCount("donki", "cmes", "activityID missing", 2),
        ReasonCount("donki", "cmes", "rare", 1),
    ]
    doc = quality.summarise(counts, reasons, "2026-12-06T00:00:00+00:00", top=3)
    donki = next(s for s in doc["sources"] if s["source"] == "donki")
    assert donki["layers"]["bronze"] == {"rows": 14, "tables": {"donki_flr": 10, "donki_gst": 4}}
    assert donki["layers"]["silver"]["rows"] == 7
    # A table not written yet is listed as None and counts as no rows.
    assert donki["layers"]["gold"] == {"rows": 0, "tables": {"flare_class_monthly": None}}
    assert donki["quarantined"] == 6
    # Most rows first; ties by entity then reason; only the top 3.
    assert donki["topReasons"] == [
        {"entity": "cmes", "reason": "activityID missing", "rows": 2},
        {"entity": "solar_flares", "reason": "peakTime not a time", "rows": 2},
        {"entity": "cmes", "reason": "rare", "rows": 1},
    ]
    assert donki["newestWindowEnd"] == "2024-05-31"
    # Every source is listed, even one with nothing yet.
    apod = next(s for s in doc["sources"] if s["source"] == "apod")
    assert apod["quarantined"] == 0 and apod["layers"]["bronze"]["rows"] == 0 and apod["newestWindowEnd"] is None


def test_tables_of_lists_every_layer_of_a_source():
    t = quality.tables_of("donki")
    assert "donki_flr" in t["bronze"] and "solar_flares" in t["silver"] and "flare_class_monthly" in t["gold"]
    assert quality.tables_of("epic")["gold"] == ["imagery_coverage_daily", "epic_image_centroids"]


def test_quality_over_the_fixture_lake(spark, fixture_lake, tmp_path):
    counts, reasons, doc = quality.build_quality(spark, fixture_lake, "2026-12-06T00:00:00+00:00")
    by_table = {(c.layer, c.table): c for c in counts}
    flr = spark.read.format("delta").load(f"{fixture_lake}/bronze/donki_flr")
    assert by_table[("bronze", "donki_flr")].rows == flr.count()
    flares = spark.read.format("delta").load(f"{fixture_lake}/silver/solar_flares").count()
    assert by_table[("silver", "solar_flares")].rows == flares
    # The fixture lake holds one raw FLR file that is not JSON: quarantined with its reason, counted under donki.
    q = spark.read.format("delta").load(f"{fixture_lake}/quarantine/records")
    donki_q = q.where("_source = 'donki'").count()
    donki = next(s for s in doc["sources"] if s["source"] == "donki")
    assert donki_q > 0 and donki["quarantined"] == donki_q
    assert "raw file is not valid JSON of the expected shape" in [r["reason"] for r in donki["topReasons"]]
    assert donki["layers"]["bronze"]["rows"] >= flr.count()
    assert donki["newestWindowEnd"] == "2024-06-30"

    written = quality.write_quality_tables(spark, fixture_lake, counts, reasons, "2026-12-06T00:00:00+00:00")
    dq = spark.read.format("delta").load(f"{fixture_lake}/gold/data_quality")
    assert dq.count() == written["data_quality"] == len(counts)
    row = dq.where("layer = 'silver' AND table_name = 'solar_flares'").first()
    assert row["row_count"] == flares and row["source"] == "donki"
    qr = spark.read.format("delta").load(f"{fixture_lake}/gold/quarantine_reasons")
    assert qr.groupBy().sum("row_count").first()[0] == q.count()

    path = quality.save_quality(doc, str(tmp_path))
    assert json.loads(open(path).read()) == json.loads(json.dumps(doc, default=str))


def test_silver_top_reasons_rank_by_rows(spark):
    from orbiter_lake.silver import top_reasons

    bad = spark.createDataFrame([("b",), ("a",), ("b",), ("c",), ("a",), ("b",)], "reason string")
    assert top_reasons(bad, top=2) == {"b": 3, "a": 2}
