"""Every notebook run end to end through the local runner (in-process, sharing the session's Spark): over the
project's fixtures, and over the real captures in ../shared/nasa-samples when present. Expected values are
counted from the raw JSON with plain Python."""

import collections
import datetime as dt
import json
import os
import re
import time

from helpers import NOTEBOOKS_DIR, land, read_table, require_samples, runner_module, sample_bytes
from test_events import write_event

rn = runner_module()
SOURCES = ("neows", "donki", "eonet", "apod", "epic", "fireball", "meteorites", "cmr")


def run_nb(spark, name, params, display_dir):
    out = rn.Runner(spark, {k: str(v) for k, v in params.items()}, display_dir).run(
        os.path.join(NOTEBOOKS_DIR, f"{name}.py")
    )
    return json.loads(out)


def test_stream_and_visual_notebooks_over_fixture_lake(spark, fixture_lake, tmp_path):
    write_event(fixture_lake, "run-1", "SUCCESS", 60000, databricks_run_id=11)
    write_event(fixture_lake, "run-2", "FAILED", 30000, databricks_run_id=12, job="orbiter-donki-pipeline")
    base = {"lake_root": fixture_lake, "input_manifest": "", "orbiter_run_id": "run-vis", "traceparent": "00-a-b-01"}
    out = run_nb(spark, "stream_run_metrics", base, str(tmp_path / "d1"))
    assert out["tables"] == {"run_completions": 2, "run_metrics_hourly": 2}
    charts_dir = tmp_path / "charts"
    out = run_nb(spark, "visual_insights", {**base, "output_dir": str(charts_dir)}, str(tmp_path / "d2"))
    assert set(out["charts"]) == {
        "neo_hazardous_weekly",
        "flare_class_monthly",
        "flare_storm_lag",
        "natural_events_monthly",
        "meteorites_by_decade",
        "fireball_energy_yearly",
        "imagery_coverage_daily",
        "run_metrics_hourly",
    }
    for chart in out["charts"]:
        png = charts_dir / f"{chart}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "data:image/png;base64," in (charts_dir / "index.html").read_text()
    assert len([f for f in os.listdir(tmp_path / "d2") if f.endswith(".png")]) == len(out["charts"])  # display()
    # The dashboard's datasets: every one ran (gold and run metrics exist) into datasets/<name>.json.
    assert out["datasets_skipped"] == {} and len(out["datasets"]) == 23
    assert sorted(os.listdir(charts_dir / "datasets")) == sorted(f"{n}.json" for n in out["datasets"])
    runs = json.loads((charts_dir / "datasets" / "pipeline_runs.json").read_text())
    assert (runs["dataset"], len(runs["rows"]), runs["truncated"]) == (
        "pipeline_runs",
        out["datasets"]["pipeline_runs"],
        False,
    )


SAMPLE_FILES = [
    ("neows", "feed", "2024-05-25", "2024-06-01", None, "neows/feed_2024-05-25_2024-06-01.json"),
    ("neows", "feed", "2023-11-29", "2023-12-06", None, "neows/feed_2023-11-29_2023-12-06.json"),
    ("donki", "FLR", "2024-05-01", "2024-05-31", None, "donki/FLR_2024-05.json"),
    ("donki", "CME", "2024-05-01", "2024-05-31", None, "donki/CME_2024-05.json"),
    ("donki", "GST", "2024-05-01", "2024-05-31", None, "donki/GST_2024-05.json"),
    ("donki", "CME", "2024-11-01", "2024-11-30", None, "donki/empty_CME_2024-11.json"),
    ("eonet", "events", "2025-11-10", "2025-11-10", None, "eonet/events_open_2025-11-10_first25.json"),
    ("fireball", "fireball", "1988-01-01", "2026-05-13", None, "fireball/fireball_all_v1.2.json"),
    ("meteorites", "landings", "2026-01-18", "2026-01-18", 1, "meteorites/meteorite_landings_soda_default1000.json"),
    ("cmr", "MYD021KM", "2019-02-20", "2019-02-21", 1, "cmr/granules_umm_json_G1593453400-LAADS_MYD021KM.json"),
    (
        "cmr",
        "TELLUS_GRAC_L3_JPL_RL06_LND_v04",
        "2002-01-01",
        "2024-04-16",
        1,
        "cmr/granules_umm_json_TELLUS_GRAC_page_size_2000.json",
    ),
    ("apod", "apod", "2021-11-07", "2021-11-08", None, "apod/apod_range_2021-11-07_2021-11-08.json"),
    ("apod", "apod", "2021-11-08", "2021-11-08", None, "apod/apod_video_thumbs_2021-11-08.json"),
    ("apod", "apod", "2021-12-06", "2021-12-06", None, "apod/apod_date_1995-06-16.json"),
    ("apod", "apod", "2030-01-01", "2030-01-01", None, "apod/apod_error_400_date_out_of_range.json"),
    ("epic", "natural", "2024-05-31", "2024-05-31", None, "epic/natural_2024-05-31.json"),
]


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def test_medallion_notebooks_over_real_nasa_samples(spark, tmp_path):
    require_samples()
    lake = str(tmp_path / "lake")
    for src, stream, ws, we, page, rel in SAMPLE_FILES:
        land(lake, src, stream, ws, we, sample_bytes(rel), page)
    raw = {rel: json.loads(sample_bytes(rel)) for *_, rel in SAMPLE_FILES}

    started = time.monotonic()
    outputs = {}
    for i, source in enumerate(SOURCES):
        params = {
            "source": source,
            "lake_root": lake,
            "input_manifest": "",
            "orbiter_run_id": f"run-{i}",
            "traceparent": "",
        }
        for stage in ("bronze", "silver", "gold"):
            outputs[(source, stage)] = run_nb(spark, stage, params, str(tmp_path / "display"))
            assert outputs[(source, stage)]["stage"] == stage
        write_event(
            lake, f"run-{i}", "SUCCESS", 1000 * (i + 1), databricks_run_id=100 + i, job=f"orbiter-{source}-pipeline"
        )
    common = {"lake_root": lake, "input_manifest": "", "orbiter_run_id": "run-x", "traceparent": ""}
    run_nb(spark, "stream_run_metrics", common, str(tmp_path / "display"))
    vis = run_nb(spark, "visual_insights", common, str(tmp_path / "display"))
    elapsed = time.monotonic() - started
    print(f"medallion over samples: {elapsed:.1f}s")

    def silver(table):
        return read_table(spark, lake, "silver", table)

    def gold(table):
        return [r.asDict() for r in read_table(spark, lake, "gold", table).collect()]

    # NeoWs: one row per object x approach (Earth), weekly hazardous counts
    approaches = {}
    for rel in ("neows/feed_2024-05-25_2024-06-01.json", "neows/feed_2023-11-29_2023-12-06.json"):
        for day in raw[rel]["near_earth_objects"].values():
            for neo in day:
                for ca in neo["close_approach_data"]:
                    approaches[(neo["id"], ca["epoch_date_close_approach"], ca["orbiting_body"])] = (neo, ca)
    assert silver("neo_close_approaches").count() == len(approaches)
    weekly = collections.Counter()
    for neo, ca in approaches.values():
        d = dt.date.fromisoformat(ca["close_approach_date"])
        if neo["is_potentially_hazardous_asteroid"]:
            weekly[d - dt.timedelta(days=d.weekday())] += 1
    got = {
        r["week_start"]: r["hazardous_approaches"] for r in gold("neo_hazardous_weekly") if r["hazardous_approaches"]
    }
    assert got == dict(weekly)

    # DONKI: flare classes per month, storms, CMEs (the empty November file adds nothing)
    flares = raw["donki/FLR_2024-05.json"]
    by_class = collections.Counter(
        (f["peakTime"] or f["beginTime"])[:7] + f["classType"][0]
        for f in flares
        if re.match(r"^[ABCMX]\d+(\.\d+)?$", f["classType"] or "")
    )
    got = {str(r["month"])[:7] + r["class_letter"]: r["flares"] for r in gold("flare_class_monthly")}
    assert got == dict(by_class)
    assert silver("geomagnetic_storms").count() == len(raw["donki/GST_2024-05.json"])
    assert silver("kp_readings").count() == sum(len(g["allKpIndex"]) for g in raw["donki/GST_2024-05.json"])
    cmes = raw["donki/CME_2024-05.json"]
    assert silver("cmes").count() == len({c["activityID"] for c in cmes})
    assert silver("cme_analyses").count() == sum(len(c["cmeAnalyses"] or []) for c in cmes)
    assert len(gold("flare_storm_lag")) == len(raw["donki/GST_2024-05.json"])

    # EONET
    ev = raw["eonet/events_open_2025-11-10_first25.json"]["events"]
    assert silver("eonet_events").count() == len([e for e in ev if e["categories"]])
    assert silver("eonet_geometries").count() == sum(len(e["geometry"]) for e in ev if e["categories"])

    # Fireballs per year (same quality rules, computed independently)
    fb = raw["fireball/fireball_all_v1.2.json"]
    rows = [dict(zip(fb["fields"], r)) for r in fb["data"]]
    good = [
        r
        for r in rows
        if num(r["energy"]) is not None
        and (r["lat"] is None or r["lat-dir"] in ("N", "S"))
        and (r["lon"] is None or r["lon-dir"] in ("E", "W"))
    ]
    per_year = collections.Counter(r["date"][:4] for r in {r["date"]: r for r in good}.values())
    assert {str(r["year"]): r["fireballs"] for r in gold("fireball_energy_yearly")} == dict(per_year)

    # Meteorites by decade
    met = raw["meteorites/meteorite_landings_soda_default1000.json"]
    decades = collections.Counter()
    for m in met:
        year = int(m["year"][:4]) if m.get("year") else None
        if (
            m.get("fall") in ("Fell", "Found")
            and (num(m.get("mass")) or 0) >= 0
            and year
            and year <= dt.date.today().year
        ):
            decades[year // 10 * 10] += 1
    assert {r["decade"]: r["landings"] for r in gold("meteorites_by_decade")} == dict(decades)

    # CMR, APOD, EPIC
    cmr_items = (
        raw["cmr/granules_umm_json_G1593453400-LAADS_MYD021KM.json"]["items"]
        + raw["cmr/granules_umm_json_TELLUS_GRAC_page_size_2000.json"]["items"]
    )
    assert silver("cmr_granules").count() == len({i["meta"]["concept-id"] for i in cmr_items})
    apod_dates = {
        a["date"]
        for rel in (
            "apod/apod_range_2021-11-07_2021-11-08.json",
            "apod/apod_video_thumbs_2021-11-08.json",
            "apod/apod_date_1995-06-16.json",
        )
        for a in (raw[rel] if isinstance(raw[rel], list) else [raw[rel]])
    }
    assert silver("apod_entries").count() == len(apod_dates)
    q = read_table(spark, lake, "quarantine", "records").where("entity = 'apod_entries'").collect()
    assert [r["reason"] for r in q] == ["upstream error body"]
    assert silver("epic_images").count() == len(raw["epic/natural_2024-05-31.json"])

    # bronze idempotency at notebook level: a second bronze run over the same files adds nothing
    again = run_nb(
        spark,
        "bronze",
        {"source": "donki", "lake_root": lake, "input_manifest": "", "orbiter_run_id": "again", "traceparent": ""},
        str(tmp_path / "display"),
    )
    assert again["files"] == {}

    # streaming metrics + charts
    metrics = gold("run_metrics_hourly")
    assert sum(r["runs"] for r in metrics) == len(SOURCES) and all(r["success_rate"] == 1.0 for r in metrics)
    charts_dir = os.path.join(str(tmp_path), "charts")  # default: <lake_root>/../charts
    assert vis["files"] and all(f.startswith(charts_dir) for f in vis["files"])
    assert os.path.isfile(os.path.join(charts_dir, "flare_class_monthly.png"))
