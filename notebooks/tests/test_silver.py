import datetime as dt
import json
import os

from helpers import fixture_bytes, fixture_json, land, land_fixtures, read_table
from orbiter_lake import bronze, silver

UTC = dt.timezone.utc


def rows_by(spark, lake, table, key):
    return {r[key]: r for r in read_table(spark, lake, "silver", table).collect()}


def quarantine(spark, lake, entity):
    return read_table(spark, lake, "quarantine", "records").where(f"entity = '{entity}'").collect()


def naive(ts: str) -> dt.datetime:
    return dt.datetime.fromisoformat(ts)


def test_neo_close_approaches_are_typed_and_bad_numbers_quarantined(spark, fixture_lake):
    feed = fixture_json("neows/feed_2024-06-01_2024-06-08.json")
    neos = [n for day in feed["near_earth_objects"].values() for n in day]
    rows = rows_by(spark, fixture_lake, "neo_close_approaches", "neo_id")
    assert set(rows) == {n["id"] for n in neos} - {"54445301"}
    r = rows["2465633"]
    assert r["miss_distance_km"] == 4512345.123 and r["miss_distance_lunar"] == 11.7385
    assert r["relative_velocity_kps"] == 17.2501 and r["is_potentially_hazardous"] is True
    assert (r["diameter_min_m"], r["diameter_max_m"]) == (229.1, 512.3)
    assert r["close_approach_date"] == dt.date(2024, 6, 2)
    assert r["close_approach_at"] == naive("2024-06-02 04:11:00")  # epoch ms 1717301460000, UTC session
    bad = quarantine(spark, fixture_lake, "neo_close_approaches")
    assert len(bad) == 1 and "miss_distance.kilometers not numeric" in bad[0]["reason"]
    assert json.loads(bad[0]["payload"])["id"] == "54445301"


def test_solar_flares_parse_class_and_times(spark, fixture_lake):
    raw = fixture_json("donki/FLR_2024-04-28_2024-05-12.json")
    rows = rows_by(spark, fixture_lake, "solar_flares", "flr_id")
    assert set(rows) == {f["flrID"] for f in raw if f["classType"]}
    x = rows["2024-05-10T06:27:00-FLR-001"]
    assert (x["class_letter"], x["class_magnitude"]) == ("X", 3.9)
    assert abs(x["peak_flux_wm2"] - 3.9e-4) < 1e-12
    assert x["begin_time"] == naive("2024-05-10 06:27:00") and x["peak_time"] == naive("2024-05-10 06:54:00")
    assert x["active_region_num"] == 13664 and x["instruments"] == ["GOES-P: EXIS 1.0-8.0"]
    assert rows["2024-05-11T01:10:00-FLR-001"]["peak_time"] is None  # optional time stays null
    assert rows["2024-05-08T21:08:00-FLR-001"]["linked_event_ids"] == ["2024-05-08T22:36:00-CME-001"]
    reasons = sorted(q["reason"] for q in quarantine(spark, fixture_lake, "solar_flares"))
    assert reasons == [
        "classType is not a GOES class (A/B/C/M/X + magnitude)",
        "raw file is not valid JSON of the expected shape",
    ]


def test_cmes_and_analyses(spark, fixture_lake):
    cmes = rows_by(spark, fixture_lake, "cmes", "activity_id")
    assert set(cmes) == {"2024-05-08T22:36:00-CME-001", "2024-05-02T07:00:00-CME-001"}
    halo = cmes["2024-05-08T22:36:00-CME-001"]
    assert (
        halo["analysis_count"] == 2 and halo["most_accurate_speed_kms"] == 1080.0 and halo["most_accurate_type"] == "O"
    )
    assert cmes["2024-05-02T07:00:00-CME-001"]["analysis_count"] == 0
    assert cmes["2024-05-02T07:00:00-CME-001"]["source_location"] is None
    analyses = read_table(spark, fixture_lake, "silver", "cme_analyses").collect()
    assert sorted(a["speed_kms"] for a in analyses) == [950.0, 1080.0]
    assert {a["activity_id"] for a in analyses} == {"2024-05-08T22:36:00-CME-001"}


def test_storms_and_kp_readings(spark, fixture_lake):
    storms = rows_by(spark, fixture_lake, "geomagnetic_storms", "gst_id")
    assert storms["2024-05-10T15:00:00-GST-001"]["max_kp_index"] == 9.0
    assert storms["2024-05-10T15:00:00-GST-001"]["start_time"] == naive("2024-05-10 15:00:00")
    assert storms["2024-05-30T06:00:00-GST-001"]["kp_reading_count"] == 1
    kp = read_table(spark, fixture_lake, "silver", "kp_readings").collect()
    assert sorted(k["kp_index"] for k in kp) == [5.33, 8.0, 9.0]
    bad = quarantine(spark, fixture_lake, "kp_readings")
    assert len(bad) == 1 and bad[0]["reason"] == "kpIndex missing or outside 0..9"


def test_eonet_events_with_categories_and_geometry(spark, fixture_lake):
    events = rows_by(spark, fixture_lake, "eonet_events", "event_id")
    assert set(events) == {"EONET_15001", "EONET_15002", "EONET_15003"}
    storm = events["EONET_15002"]
    assert storm["category_ids"] == ["severeStorms"] and storm["is_open"] is False
    assert storm["closed_at"] == naive("2025-11-05 00:00:00") and storm["geometry_count"] == 3
    assert (storm["last_longitude"], storm["last_latitude"]) == (139.6, 10.2) and storm["max_magnitude_value"] == 45.0
    geoms = read_table(spark, fixture_lake, "silver", "eonet_geometries").collect()
    assert len(geoms) == 2 + 3 + 1
    poly = [g for g in geoms if g["geometry_type"] == "Polygon"][0]
    assert poly["longitude"] is None and json.loads(poly["coordinates_json"])[0][0] == [-110.0, -74.0]
    bad = quarantine(spark, fixture_lake, "eonet_events")
    assert [b["reason"] for b in bad] == ["event has no category"]


def test_fireballs_signed_coordinates(spark, fixture_lake):
    rows = rows_by(spark, fixture_lake, "fireballs", "peak_at")
    assert len(rows) == 4
    r = rows[naive("2024-11-02 14:12:08")]
    assert (r["latitude"], r["longitude"], r["altitude_km"], r["velocity_kms"]) == (-16.2, -63.4, 32.0, 17.1)
    assert (r["radiated_energy_e10j"], r["impact_energy_kt"]) == (4.6, 0.15)
    assert rows[naive("2024-07-19 03:30:12")]["altitude_km"] is None
    assert [q["reason"] for q in quarantine(spark, fixture_lake, "fireballs")] == ["lat without lat-dir N/S"]


def test_meteorites_cleaned_coordinates_and_quarantine(spark, fixture_lake):
    rows = rows_by(spark, fixture_lake, "meteorite_landings", "meteorite_id")
    assert set(rows) == {1, 6, 50693, 10, 370, 379, 9001}
    assert (rows[1]["latitude"], rows[1]["longitude"], rows[1]["year"], rows[1]["mass_g"]) == (
        50.775,
        6.08333,
        1880,
        21.0,
    )
    assert rows[50693]["coordinate_status"] == "zero" and rows[50693]["latitude"] is None
    assert rows[379]["coordinate_status"] == "missing"
    assert rows[9001]["coordinate_status"] == "out_of_range" and rows[9001]["year"] is None  # year 2101
    assert rows[370]["mass_g"] is None
    assert json.loads(rows[6]["_rescued_data"])[":@computed_region_nnqa_25f4"] == "429"
    bad = quarantine(spark, fixture_lake, "meteorite_landings")
    assert len(bad) == 1
    assert bad[0]["reason"] == "mass not a non-negative number; fall is not Fell/Found"


def test_cmr_granules_bbox_time_and_cloud_cover(spark, fixture_lake):
    rows = rows_by(spark, fixture_lake, "cmr_granules", "concept_id")
    g = rows["G3000000001-LAADS"]
    assert (g["west"], g["south"], g["east"], g["north"]) == (-60.9, 56.6, 19.8, 80.4)
    assert g["begin_time"] == naive("2024-05-31 00:00:00") and g["end_time"] == naive("2024-05-31 00:05:00")
    assert g["cloud_cover_pct"] == 35.5 and g["collection_short_name"] == "MYD021KM" and g["size_mb"] == 65.8
    assert (
        rows["G3000000003-LAADS"]["cloud_cover_pct"] is None and rows["G3000000003-LAADS"]["day_night_flag"] == "Night"
    )
    assert rows["G3000000002-LAADS"]["revision_id"] == 2


def test_apod_and_epic(spark, fixture_lake):
    apod = rows_by(spark, fixture_lake, "apod_entries", "apod_date")
    assert set(apod) == {dt.date(2024, 5, 30), dt.date(2024, 5, 31), dt.date(2024, 6, 1)}
    assert apod[dt.date(2024, 5, 30)]["copyright"] == "Jane Doe"
    assert apod[dt.date(2024, 5, 31)]["thumbnail_url"].startswith("https://img.youtube.com/")
    assert [q["reason"] for q in quarantine(spark, fixture_lake, "apod_entries")] == ["upstream error body"]
    epic = rows_by(spark, fixture_lake, "epic_images", "identifier")
    assert len(epic) == 3 and epic["20240531002713"]["taken_at"] == naive("2024-05-31 00:22:24")


def test_silver_rerun_changes_nothing(spark, fixture_lake):
    before = read_table(spark, fixture_lake, "quarantine", "records").count()
    version = read_table(spark, fixture_lake, "silver", "solar_flares").select("_version").collect()
    summary = silver.run_silver(spark, fixture_lake, "donki")
    assert summary["solar_flares"]["rows"] == 5
    assert read_table(spark, fixture_lake, "quarantine", "records").count() == before
    assert sorted(version) == sorted(
        read_table(spark, fixture_lake, "silver", "solar_flares").select("_version").collect()
    )


def test_merge_keeps_latest_blob_and_ignores_older_blob_landing_late(spark, lake):
    rel = "neows/feed_2024-06-01_2024-06-08.json"
    land(lake, "neows", "feed", "2024-06-01", "2024-06-08", fixture_bytes(rel), mtime=1_700_000_000)
    bronze.run_bronze(spark, lake, "neows", "batch")
    silver.run_silver(spark, lake, "neows")

    def variant(km: str, mtime: int) -> None:
        feed = fixture_json(rel)
        feed["near_earth_objects"]["2024-06-02"][0]["close_approach_data"][0]["miss_distance"]["kilometers"] = km
        land(lake, "neows", "feed", "2024-06-01", "2024-06-08", json.dumps(feed).encode(), mtime=mtime)
        bronze.run_bronze(spark, lake, "neows", "batch")
        silver.run_silver(spark, lake, "neows")

    variant("4400000.5", 1_700_000_500)  # a newer version of the window
    variant("1.0", 1_600_000_000)  # an older fetch processed late must not win
    rows = rows_by(spark, lake, "neo_close_approaches", "neo_id")
    assert len(rows) == 4
    assert rows["2465633"]["miss_distance_km"] == 4400000.5


def test_silver_reads_a_manifest_by_reference_and_processes_only_its_files(spark, lake):
    names = land_fixtures(lake, ("apod",))
    bronze.run_bronze(spark, lake, "apod", "batch")
    manifest = os.path.join(lake, "events", "manifests", "apod", "apod-run-2.json")
    os.makedirs(os.path.dirname(manifest))
    with open(manifest, "w", encoding="utf-8") as fh:
        json.dump({"files": [{"container": "raw", "path": names[1]}]}, fh)  # the single-object APOD response
    ref = json.dumps({"ref": {"container": "events", "path": "manifests/apod/apod-run-2.json"}})
    summary = silver.run_silver(spark, lake, "apod", ref)
    assert summary["apod_entries"]["candidates"] == 1
    assert set(rows_by(spark, lake, "apod_entries", "apod_date")) == {dt.date(2024, 6, 1)}
