import hashlib
import json
import os
import shutil

from helpers import fixture_bytes, fixture_json, land, land_fixtures, read_table
from orbiter_lake import bronze


def test_bronze_lands_one_row_per_record_with_metadata(spark, lake):
    names = land_fixtures(lake, ("neows", "meteorites", "fireball"))
    for source in ("neows", "meteorites", "fireball"):
        bronze.run_bronze(spark, lake, source, "batch", "", "run-1")

    feed = fixture_json("neows/feed_2024-06-01_2024-06-08.json")
    expected_neos = sum(len(v) for v in feed["near_earth_objects"].values())
    neo = read_table(spark, lake, "bronze", "neows_feed")
    assert neo.count() == expected_neos
    row = neo.orderBy("_record_index").first()
    body = fixture_bytes("neows/feed_2024-06-01_2024-06-08.json")
    assert row["_sha256"] == hashlib.sha256(body).hexdigest()
    assert row["_blob_name"] == names[0]
    assert (row["_source"], row["_stream"], row["_window_start"], row["_window_end"]) == (
        "neows",
        "feed",
        "2024-06-01",
        "2024-06-08",
    )
    assert row["_orbiter_run_id"] == "run-1" and row["_ingested_at"] is not None and row["_landed_at"] is not None
    assert row["_record_group"] in feed["near_earth_objects"]
    assert json.loads(row["payload"])["id"] in {n["id"] for day in feed["near_earth_objects"].values() for n in day}

    met = read_table(spark, lake, "bronze", "meteorite_landings")
    assert met.count() == len(fixture_json("meteorites/landings_p0001.json"))
    assert {r["_page"] for r in met.select("_page").collect()} == {1}
    # Socrata's optional :@computed_region_* keys are not modelled: kept as rescued data, not lost.
    rescued = met.where("_rescued_data is not null").collect()
    assert len(rescued) == 1
    assert json.loads(rescued[0]["_rescued_data"]) == {
        ":@computed_region_cbhk_fwbd": "50",
        ":@computed_region_nnqa_25f4": "429",
    }

    fb = read_table(spark, lake, "bronze", "fireball")
    table = fixture_json("fireball/fireball_2024-01-01_2025-01-01.json")
    assert fb.count() == len(table["data"])
    first = json.loads(fb.where("_record_index = 0").first()["payload"])
    assert first == dict(zip(table["fields"], table["data"][0]))


def test_bronze_rerun_adds_no_duplicates_in_batch_stream_and_manifest_modes(spark, lake):
    names = land_fixtures(lake, ("apod",))
    expected = 2 + 1 + 1  # range array of 2, single object, error object
    bronze.run_bronze(spark, lake, "apod", "files")
    assert read_table(spark, lake, "bronze", "apod").count() == expected
    assert bronze.run_bronze(spark, lake, "apod", "files") == {}  # checkpoint: nothing new
    shutil.rmtree(f"{lake}/checkpoints")
    bronze.run_bronze(spark, lake, "apod", "files")  # replay from scratch: keys dedup
    bronze.run_bronze(spark, lake, "apod", "batch")
    manifest = json.dumps({"files": [{"container": "raw", "path": names[0], "etag": "0x1"}]})
    assert bronze.run_bronze(spark, lake, "apod", "files", manifest) == {"apod": 1}
    assert read_table(spark, lake, "bronze", "apod").count() == expected


def test_manifest_limits_processing_to_listed_files(spark, lake):
    names = land_fixtures(lake, ("apod",))
    manifest = json.dumps({"files": [{"container": "raw", "path": names[1]}]})
    bronze.run_bronze(spark, lake, "apod", "files", manifest)
    rows = read_table(spark, lake, "bronze", "apod").collect()
    assert {r["_blob_name"] for r in rows} == {names[1]}
    assert len(rows) == 1


def test_manifest_by_reference_limits_processing_to_the_files_it_lists(spark, lake):
    names = land_fixtures(lake, ("apod",))
    manifest_path = os.path.join(lake, "events", "manifests", "apod", "apod-run-1.json")
    os.makedirs(os.path.dirname(manifest_path))
    with open(manifest_path, "w", encoding="utf-8") as fh:
        json.dump({"files": [{"container": "raw", "path": names[0]}, {"container": "raw", "path": names[2]}]}, fh)
    ref = json.dumps({"ref": {"container": "events", "path": "manifests/apod/apod-run-1.json"}})
    assert bronze.run_bronze(spark, lake, "apod", "files", ref, "apod-run-1") == {"apod": 2}
    rows = read_table(spark, lake, "bronze", "apod").collect()
    assert {r["_blob_name"] for r in rows} == {names[0], names[2]}
    assert {r["_orbiter_run_id"] for r in rows} == {"apod-run-1"}


def test_unparseable_body_is_kept_as_corrupt_record_and_empty_response_adds_nothing(spark, lake):
    land(lake, "donki", "FLR", "2024-06-01", "2024-06-30", b'[{"flrID": "x", ')
    land(lake, "donki", "CME", "2024-11-01", "2024-11-30", b"[]")
    land(lake, "donki", "IPS", "2024-05-01", "2024-05-31", b'[{"activityID":"2024-05-02T07:46:00-IPS-001"}]')
    counts = bronze.run_bronze(spark, lake, "donki", "batch")
    assert counts == {"donki_cme": 1, "donki_flr": 1, "donki_ips": 1}
    flr = read_table(spark, lake, "bronze", "donki_flr").collect()
    assert len(flr) == 1 and flr[0]["payload"] is None and flr[0]["_record_index"] == -1
    assert flr[0]["_corrupt_record"] == '[{"flrID": "x", '
    assert read_table(spark, lake, "bronze", "donki_cme").count() == 0
    # A stream we do not model still lands (generic array table), nothing skipped.
    assert read_table(spark, lake, "bronze", "donki_ips").count() == 1
