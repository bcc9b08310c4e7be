"""The insights dashboard's datasets and the analysts' SQL notebook, run on Spark SQL over the fixtures' gold tables.

Every dataset of the .lvdash.json and every query cell of gold_analysis.sql runs; expected values are read off the
fixtures (tests/fixtures, the same facts test_gold.py checks)."""

import datetime as dt
import json
import os
import re
import shutil

import pytest
from helpers import NOTEBOOKS_DIR, read_table
from test_events import write_event

from orbiter_lake import dashboard, events, quality


@pytest.fixture(scope="module")
def gold_lake(spark, fixture_lake, tmp_path_factory):
    """The fixture lake's gold tables plus run metrics from two completion events (a lake of its own, so the
    run-metrics tables other tests build in the shared fixture lake do not matter)."""
    root = str(tmp_path_factory.mktemp("dashboard_lake") / "lake")
    src = os.path.join(fixture_lake, "gold")
    for table in os.listdir(src):
        if table not in ("run_metrics_hourly", "data_quality", "quarantine_reasons"):
            shutil.copytree(os.path.join(src, table), os.path.join(root, "gold", table))
    # Data quality as the visual insights job computes it, over the fixture lake's three layers and quarantine.
    counts, reasons, _ = quality.build_quality(spark, fixture_lake, "2026-12-06T05:00:00+00:00")
    quality.write_quality_tables(spark, root, counts, reasons, "2026-12-06T05:00:00+00:00")
    write_event(root, "run-1", "SUCCESS", 60000)
    write_event(root, "run-2", "FAILED", 30000, job="orbiter-donki-pipeline")
    events.run_metrics_stream(spark, root, "files")
    return root


@pytest.fixture(scope="module")
def written(spark, gold_lake, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("charts") / "datasets")
    results = dashboard.write_datasets(spark, gold_lake, out, "2026-12-06T05:00:00+00:00")
    return out, {r.name: r for r in results}


def doc(written, name):
    with open(os.path.join(written[0], f"{name}.json"), encoding="utf-8") as fh:
        return json.load(fh)


def rows(written, name):
    return doc(written, name)["rows"]


# --- the definition -----------------------------------------------------------------------------------------
DEFINITION = dashboard.load_definition()
WIDGETS = [item["widget"] for page in DEFINITION["pages"] for item in page["layout"]]
DATASETS = {d.name: d for d in dashboard.datasets(DEFINITION)}
GOLD_TABLES = [t for ts in __import__("orbiter_lake.gold", fromlist=["GOLD_TABLES"]).GOLD_TABLES.values() for t in ts]


def test_definition_widgets_cover_every_gold_table_with_the_widget_types_the_renderers_draw():
    kinds = {w["spec"]["widgetType"] for w in WIDGETS if "spec" in w}
    assert {"bar", "line", "scatter", "table", "counter", "symbol-map"} <= kinds
    maps = [w for w in WIDGETS if w.get("spec", {}).get("widgetType") == "symbol-map"]
    assert {w["queries"][0]["query"]["datasetName"] for w in maps} == {
        "meteorite_sites",
        "fireball_impact_points",
        "natural_event_points",
        "epic_centroids",
    }
    shown = {t for w in WIDGETS if "queries" in w for t in DATASETS[w["queries"][0]["query"]["datasetName"]].tables}
    assert set(GOLD_TABLES) | {"run_metrics_hourly"} <= shown


def test_widget_queries_are_plain_columns_of_their_dataset():
    for w in (w for w in WIDGETS if "queries" in w):
        q = w["queries"][0]["query"]
        assert q["disaggregated"] is True, w["name"]
        assert q["datasetName"] in DATASETS, w["name"]
        for f in q["fields"]:
            assert f["expression"] == f"`{f['name']}`", w["name"]
        names = {f["name"] for f in q["fields"]}
        enc = w["spec"]["encodings"]
        used = [e["fieldName"] for e in enc.get("columns", []) + enc.get("extra", [])]
        used += [e["fieldName"] for k, e in enc.items() if isinstance(e, dict) and "fieldName" in e]
        used += [e["fieldName"] for e in enc.get("coordinates", {}).values()]
        assert set(used) <= names, w["name"]


def test_a_bad_definition_is_refused_with_the_reason():
    with pytest.raises(dashboard.DashboardError, match="no datasets"):
        dashboard.datasets({"pages": []})
    with pytest.raises(dashboard.DashboardError, match="not 1-100 letters"):
        dashboard.datasets({"datasets": [{"name": "../x", "queryLines": ["SELECT 1"]}]})
    with pytest.raises(dashboard.DashboardError, match="defined twice"):
        dashboard.datasets({"datasets": [{"name": "a", "queryLines": ["SELECT 1"]}] * 2})
    with pytest.raises(dashboard.DashboardError, match="queryLines"):
        dashboard.datasets({"datasets": [{"name": "a", "queryLines": "SELECT 1"}]})


# --- every dataset on the fixtures --------------------------------------------------------------------------
def test_every_dataset_runs_and_writes_its_file(written):
    out, results = written
    assert sorted(results) == sorted(DATASETS)
    assert [n for n, r in results.items() if r.path is None] == []
    for name in DATASETS:
        d = doc(written, name)
        assert (d["dataset"], d["generatedAt"], d["truncated"]) == (name, "2026-12-06T05:00:00+00:00", False)
        assert d["rows"], name
        assert [c["name"] for c in d["columns"]] == list(d["rows"][0]), name
        assert results[name].rows == len(d["rows"])
    assert not [f for f in os.listdir(out) if f.endswith(".tmp")]


def test_counters(written):
    neo = rows(written, "kpi_closest_neo")
    assert len(neo) == 1 and neo[0]["miss_distance_km"] == 150000.0
    assert rows(written, "kpi_meteorites") == [{"landings": 7, "classes": 4}]
    assert rows(written, "kpi_fireballs") == [{"fireballs": 4, "first_year": 2023, "last_year": 2024}]
    assert rows(written, "kpi_strongest_storm") == [{"max_kp_index": 9.0, "storms": 2}]


def test_neo_datasets(written):
    weekly = rows(written, "neo_weekly")
    assert [(r["week_start"], r["approach_kind"], r["approaches"]) for r in weekly] == [
        ("2024-05-27", "not hazardous", 1),
        ("2024-05-27", "potentially hazardous", 1),
        ("2024-06-03", "not hazardous", 1),
        ("2024-06-03", "potentially hazardous", 1),
    ]
    assert doc(written, "neo_weekly")["columns"][0] == {"name": "week_start", "type": "date"}
    closest = rows(written, "neo_closest")
    assert [r["rank"] for r in closest] == [1, 2, 3, 4] and closest[0]["miss_distance_km"] == 150000.0


def test_space_weather_datasets_and_the_flare_to_storm_timeline(written):
    assert [(r["month"], r["goes_class"], r["flares"]) for r in rows(written, "flare_classes")] == [
        ("2024-04-01", "C", 1),
        ("2024-05-01", "M", 2),
        ("2024-05-01", "X", 2),
    ]
    timeline = rows(written, "flare_storm_timeline")
    # One segment: the X3.9 flare peak (06:54) to the storm start 8.1 h later, at the storm's Kp 9.
    assert [(r["event"], r["at"], r["storm"], r["max_kp_index"]) for r in timeline] == [
        ("flare peak", "2024-05-10T06:54:00Z", "2024-05-10 Kp 9.0", 9.0),
        ("storm start", "2024-05-10T15:00:00Z", "2024-05-10 Kp 9.0", 9.0),
    ]
    assert {c["name"]: c["type"] for c in doc(written, "flare_storm_timeline")["columns"]}["at"] == "timestamp"
    lag = rows(written, "flare_storm_lag")
    assert [(r["flare_class"], r["flare_letter"], r["lag_hours"]) for r in lag] == [("X3.9", "X", 8.1)]


def test_meteorite_datasets(written):
    classes = [(r["rec_class"], r["landings"], r["fell"]) for r in rows(written, "meteorite_classes")]
    assert classes == [("L5", 3, 1), ("EH4", 2, 2), ("Acapulcoite", 1, 1), ("L6", 1, 1)]
    decades = rows(written, "meteorites_by_decade")
    assert [(r["decade"], r["landings"]) for r in decades if r["discovery"] == "fell (seen falling)"] == [
        (1880, 1),
        (1900, 1),
        (1910, 1),
        (1950, 1),
        (1970, 1),
    ]
    assert {r["landings"] for r in decades if r["discovery"] == "found later"} == {0}
    sites = rows(written, "meteorite_sites")
    # Heaviest first; 0,0 (NWA 5815), missing (Adhi Kot) and out-of-range (Future Rock) coordinates are not drawn.
    assert [(r["name"], r["latitude"], r["longitude"]) for r in sites] == [
        ("Abee", 54.21667, -113.0),
        ("Acapulco", 16.88333, -99.9),
        ("Aachen", 50.775, 6.08333),
        ("Achiras", -33.16667, -64.95),
    ]


def test_fireball_datasets(written):
    assert [(r["year"], r["fireballs"]) for r in rows(written, "fireball_yearly")] == [(2023, 2), (2024, 2)]
    points = rows(written, "fireball_impact_points")
    assert [(r["peak_at"], r["latitude"], r["longitude"], r["impact_energy_kt"]) for r in points] == [
        ("2024-11-02T14:12:08Z", -16.2, -63.4, 0.15),
        ("2024-07-19T03:30:12Z", 41.0, 12.5, 2.9),
        ("2023-12-24T06:01:00Z", 8.5, -170.1, 0.077),
    ]


def test_earth_datasets(written):
    assert [(r["category_title"], r["event_months"]) for r in rows(written, "natural_events_by_category")] == [
        ("Wildfires", 2),
        ("Sea and Lake Ice", 1),
        ("Severe Storms", 1),
    ]
    points = rows(written, "natural_event_points")
    assert [(r["event_id"], r["category_title"], r["latitude"], r["longitude"]) for r in points] == [
        ("EONET_15002", "Severe Storms", 10.2, 139.6),
        ("EONET_15001", "Wildfires", 38.3, -120.4),
    ]
    epic = rows(written, "epic_centroids")
    assert [(r["identifier"], r["latitude"], r["longitude"]) for r in epic] == [
        ("20240531024809", 20.61, 127.0),
        ("20240531013241", 20.65, 145.7),
        ("20240531002713", 20.69, 161.99),
    ]
    imagery = {(r["day"], r["product"]): r["items"] for r in rows(written, "imagery_daily")}
    assert imagery == {("2024-05-31", "EPIC natural"): 3, ("2024-05-31", "MYD021KM"): 2, ("2024-06-01", "MYD021KM"): 1}
    assert [(r["month"], r["media_type"], r["entries"]) for r in rows(written, "apod_media")] == [
        ("2024-05-01", "image", 1),
        ("2024-05-01", "video", 1),
        ("2024-06-01", "image", 1),
    ]
    runs = [(r["job_name"], r["runs"], r["succeeded"], r["failed"]) for r in rows(written, "pipeline_runs")]
    assert runs == [("orbiter-donki-pipeline", 1, 0, 1), ("orbiter-neows-pipeline", 1, 1, 0)]


def test_data_quality_datasets(written, spark, fixture_lake):
    layers = {(r["source"], r["layer"]): r for r in rows(written, "data_quality_layers")}
    assert {s for s, _ in layers} == set(quality.SOURCES)
    donki_bronze = quality.tables_of("donki")["bronze"]
    assert layers[("donki", "bronze")]["row_count"] == sum(
        read_table(spark, fixture_lake, "bronze", t).count() for t in donki_bronze
    )
    per_source = {r["source"]: r for r in rows(written, "data_quality_sources")}
    assert per_source["donki"]["silver_rows"] == layers[("donki", "silver")]["row_count"]
    assert per_source["donki"]["quarantined_rows"] >= 1  # the raw FLR file that is not JSON
    assert per_source["neows"]["newest_window_end"] and per_source["neows"]["watermark_lag_days"] > 0
    reasons = rows(written, "quarantine_top_reasons")
    assert reasons and reasons == sorted(reasons, key=lambda r: -r["row_count"])
    assert sum(r["row_count"] for r in reasons if r["source"] == "donki") == per_source["donki"]["quarantined_rows"]


def test_rows_are_capped_and_say_so(spark, gold_lake, tmp_path):
    results = dashboard.write_datasets(spark, gold_lake, str(tmp_path), "t", cap=2)
    capped = {r.name: (r.rows, r.truncated) for r in results}
    assert capped["meteorite_sites"] == (2, True) and capped["kpi_meteorites"] == (1, False)
    assert json.loads((tmp_path / "meteorite_sites.json").read_text())["truncated"] is True


def test_datasets_of_missing_tables_are_skipped_and_their_stale_files_removed(spark, tmp_path):
    out = tmp_path / "datasets"
    out.mkdir()
    (out / "apod_media.json").write_text("{}")
    results = dashboard.write_datasets(spark, str(tmp_path / "empty-lake"), str(out), "t")
    assert all(r.path is None and r.missing_tables for r in results)
    assert {r.name: r.missing_tables for r in results}["apod_media"] == ("apod_media_monthly",)
    assert os.listdir(out) == []


def test_registering_gold_keeps_the_lake_files(spark, gold_lake):
    before = read_table(spark, gold_lake, "gold", "apod_media_monthly").count()
    dashboard.register_gold_tables(spark, gold_lake, {"apod_media_monthly"})
    dashboard.register_gold_tables(spark, gold_lake, {"apod_media_monthly"})  # re-registration drops the old one
    assert read_table(spark, gold_lake, "gold", "apod_media_monthly").count() == before == 3


# --- the analysts' SQL notebook -----------------------------------------------------------------------------
def sql_cells(path):
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    assert text.startswith("-- Databricks notebook source\n")
    cells = [c.strip() for c in text[len("-- Databricks notebook source\n") :].split("\n-- COMMAND ----------\n")]
    return [c for c in cells if not c.startswith("-- MAGIC")]


SQL_NOTEBOOK = os.path.join(NOTEBOOKS_DIR, "gold_analysis.sql")
CELLS = sql_cells(SQL_NOTEBOOK)


def title(cell):
    return cell.split("\n", 1)[0].removeprefix("-- ")


def query(spark, cell):
    return [tuple(r) for r in spark.sql(cell).collect()]


@pytest.fixture(scope="module")
def sql(spark, gold_lake):
    tables = {m.lower() for c in CELLS for m in re.findall(r"\bgold\.(\w+)", c)}
    assert dashboard.register_gold_tables(spark, gold_lake, tables) == tables
    return {title(c): query(spark, c) for c in CELLS if not c.split("\n")[-1].startswith("USE CATALOG")}


def test_sql_notebook_starts_with_the_catalog_and_reads_gold_only():
    assert CELLS[0].endswith("USE CATALOG IDENTIFIER(:catalog)")
    for c in CELLS[1:]:
        assert re.findall(r"\bFROM\s+(\w+)\.", c) == ["gold"], title(c)


def test_sql_notebook_queries_on_the_fixtures(sql):
    assert len(sql) == 12
    hazardous = sql["Potentially hazardous close approaches, closest first"]
    assert len(hazardous) == 2 and hazardous[0][2] <= hazardous[1][2]
    assert sql["Share of potentially hazardous approaches per week"] == [
        (dt.date(2024, 5, 27), 2, 1, 50.0),
        (dt.date(2024, 6, 3), 2, 1, 50.0),
    ]
    flares = sql["Solar flares per GOES class over the whole period, with the strongest magnitude seen"]
    assert [(c, n) for c, n, _ in flares] == [("C", 1), ("M", 2), ("X", 2)] and flares[2][2] >= 3.9
    assert sql["Geomagnetic storms by the class of the strongest flare in the 96 h before them, and the mean lag"] == [
        ("X", 1, 8.1, 9.0),
        ("none", 1, None, 5.33),
    ]
    assert sql["Meteorite classes: how many were seen falling, and their total mass"] == [
        ("L5", 3, 1, 33.3, 0.3),
        ("EH4", 2, 2, 100.0, 111.2),
        ("Acapulcoite", 1, 1, 100.0, 1.9),
        ("L6", 1, 1, 100.0, None),
    ]
    assert sql["Meteorite landings per hemisphere (sites with known coordinates)"] == [
        ("north", 3, 108.9),
        ("south", 1, None),
    ]
    impacts = sql["The most energetic fireball impacts and where they happened"]
    assert [r[3] for r in impacts] == [2.9, 0.15, 0.077]
    assert sql["Natural events per category: how many, and how many are still open"] == [
        ("Severe Storms", 1, 0),
        ("Wildfires", 1, 1),
    ]
    assert sql["EPIC images per day and the mean latitude under the camera"] == [(dt.date(2024, 5, 31), 3, 20.65)]
    assert sql["Imagery per source and product: items and days covered"] == [
        ("cmr", "MYD021KM", 3, 2),
        ("epic", "EPIC natural", 3, 1),
    ]
    assert sql["Astronomy Picture of the Day entries per media type"] == [("image", 2), ("video", 1)]
    assert sql["Pipeline runs per job: failures and the worst hourly p90 duration"] == [
        ("orbiter-donki-pipeline", 1, 1, 30.0),
        ("orbiter-neows-pipeline", 1, 0, 60.0),
    ]
