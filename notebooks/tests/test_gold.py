import datetime as dt

from helpers import read_table


def table(spark, lake, name):
    return [r.asDict() for r in read_table(spark, lake, "gold", name).collect()]


def test_hazardous_neo_approaches_per_week(spark, fixture_lake):
    weeks = {r["week_start"]: r for r in table(spark, fixture_lake, "neo_hazardous_weekly")}
    # 2024-06-02 is a Sunday (week of Mon 2024-05-27); 2024-06-04 a Tuesday (week of 2024-06-03).
    assert set(weeks) == {dt.date(2024, 5, 27), dt.date(2024, 6, 3)}
    w1, w2 = weeks[dt.date(2024, 5, 27)], weeks[dt.date(2024, 6, 3)]
    assert (w1["approaches"], w1["hazardous_approaches"], w1["closest_hazardous_lunar"]) == (2, 1, 11.7385)
    assert (w2["approaches"], w2["hazardous_approaches"], w2["hazardous_objects"]) == (2, 1, 1)


def test_ten_closest_approaches(spark, fixture_lake):
    rows = sorted(table(spark, fixture_lake, "neo_closest_approaches"), key=lambda r: r["rank"])
    assert [r["neo_id"] for r in rows] == ["54445300", "54445201", "2465633", "3361187"]
    assert rows[0]["miss_distance_km"] == 150000.0


def test_flare_class_distribution_per_month(spark, fixture_lake):
    got = {(r["month"], r["class_letter"]): r["flares"] for r in table(spark, fixture_lake, "flare_class_monthly")}
    assert got == {(dt.date(2024, 4, 1), "C"): 1, (dt.date(2024, 5, 1), "M"): 2, (dt.date(2024, 5, 1), "X"): 2}


def test_flare_to_storm_lag(spark, fixture_lake):
    rows = {r["gst_id"]: r for r in table(spark, fixture_lake, "flare_storm_lag")}
    may10 = rows["2024-05-10T15:00:00-GST-001"]
    # strongest flare peaking in the 96 h before 2024-05-10 15:00 is X3.9 at 06:54 -> 8.1 h
    assert (may10["flr_id"], may10["flare_class"]) == ("2024-05-10T06:27:00-FLR-001", "X3.9")
    assert abs(may10["lag_hours"] - 8.1) < 1e-9
    assert rows["2024-05-30T06:00:00-GST-001"]["flr_id"] is None


def test_active_natural_events_by_category_and_month(spark, fixture_lake):
    got = {
        (r["category_id"], r["month"]): (r["active_events"], r["observations"])
        for r in table(spark, fixture_lake, "natural_events_monthly")
    }
    assert got == {
        ("wildfires", dt.date(2025, 10, 1)): (1, 1),
        ("wildfires", dt.date(2025, 11, 1)): (1, 1),
        ("severeStorms", dt.date(2025, 11, 1)): (1, 3),
        ("seaLakeIce", dt.date(2025, 10, 1)): (1, 1),
    }


def test_meteorites_by_class_and_decade(spark, fixture_lake):
    by_class = {r["rec_class"]: r for r in table(spark, fixture_lake, "meteorites_by_class")}
    assert (by_class["L5"]["landings"], by_class["L5"]["total_mass_g"]) == (3, 21 + 256.8 + 12)
    assert (by_class["EH4"]["landings"], by_class["EH4"]["total_mass_g"], by_class["EH4"]["fell"]) == (2, 111239.0, 2)
    assert by_class["L6"]["with_mass"] == 0
    by_decade = {r["decade"]: r["landings"] for r in table(spark, fixture_lake, "meteorites_by_decade")}
    assert by_decade == {1880: 1, 1900: 1, 1910: 1, 1950: 1, 1970: 1}


def test_fireball_energy_per_year(spark, fixture_lake):
    years = {r["year"]: r for r in table(spark, fixture_lake, "fireball_energy_yearly")}
    assert years[2023]["fireballs"] == 2 and abs(years[2023]["total_radiated_energy_e10j"] - 12.1) < 1e-9
    assert years[2024]["fireballs"] == 2 and years[2024]["max_radiated_energy_e10j"] == 120.5


def test_imagery_coverage_per_day(spark, fixture_lake):
    got = {(r["day"], r["product"]): r for r in table(spark, fixture_lake, "imagery_coverage_daily")}
    modis = got[(dt.date(2024, 5, 31), "MYD021KM")]
    assert (modis["items"], modis["covered_minutes"], modis["mean_cloud_cover_pct"]) == (2, 10.0, 57.75)
    assert got[(dt.date(2024, 6, 1), "MYD021KM")]["items"] == 1
    assert got[(dt.date(2024, 5, 31), "EPIC natural")]["items"] == 3


def test_apod_media_per_month(spark, fixture_lake):
    got = {(r["month"], r["media_type"]): r["entries"] for r in table(spark, fixture_lake, "apod_media_monthly")}
    assert got == {
        (dt.date(2024, 5, 1), "image"): 1,
        (dt.date(2024, 5, 1), "video"): 1,
        (dt.date(2024, 6, 1), "image"): 1,
    }


def test_map_tables_keep_only_points_a_map_can_draw(spark, fixture_lake):
    sites = {r["name"]: (r["latitude"], r["longitude"]) for r in table(spark, fixture_lake, "meteorite_landing_sites")}
    # NWA 5815 sits at the 0,0 placeholder, Adhi Kot has no coordinates, Future Rock's longitude is 200.
    assert sites == {
        "Aachen": (50.775, 6.08333),
        "Abee": (54.21667, -113.0),
        "Acapulco": (16.88333, -99.9),
        "Achiras": (-33.16667, -64.95),
    }
    impacts = {r["peak_at"]: (r["latitude"], r["longitude"]) for r in table(spark, fixture_lake, "fireball_impacts")}
    # 2023-05-05 reported no position (S latitude and W longitude are negative).
    assert impacts == {
        dt.datetime(2024, 11, 2, 14, 12, 8): (-16.2, -63.4),
        dt.datetime(2024, 7, 19, 3, 30, 12): (41.0, 12.5),
        dt.datetime(2023, 12, 24, 6, 1): (8.5, -170.1),
    }
    events = {r["event_id"]: r for r in table(spark, fixture_lake, "natural_event_locations")}
    assert {k: (r["category_title"], r["latitude"], r["longitude"]) for k, r in events.items()} == {
        "EONET_15001": ("Wildfires", 38.3, -120.4),
        "EONET_15002": ("Severe Storms", 10.2, 139.6),
    }
    centroids = {
        r["identifier"]: (r["latitude"], r["longitude"]) for r in table(spark, fixture_lake, "epic_image_centroids")
    }
    assert centroids == {
        "20240531002713": (20.69, 161.99),
        "20240531013241": (20.65, 145.7),
        "20240531024809": (20.61, 127.0),
    }
