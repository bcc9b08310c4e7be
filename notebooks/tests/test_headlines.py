"""Headline figures from the gold tables: on the fixture lake (Spark) and on hand-made rows (edge cases)."""

import datetime as dt
import json

from orbiter_lake import headlines


def test_headlines_over_the_fixture_lake(spark, fixture_lake, tmp_path):
    figures = {h.key: h for h in headlines.build_headlines(spark, fixture_lake)}
    assert set(figures) == {
        "closest_neo",
        "strongest_flare",
        "strongest_storm",
        "top_meteorite_class",
        "brightest_fireball",
        "busiest_event_category",
        "imagery",
    }
    # The closest approach is rank 1 of gold.neo_closest_approaches.
    closest = spark.read.format("delta").load(f"{fixture_lake}/gold/neo_closest_approaches").where("rank = 1").first()
    assert figures["closest_neo"].value.startswith(f"{closest['name']}: {int(closest['miss_distance_km']):,} km")
    path = headlines.save_headlines(list(figures.values()), str(tmp_path), "2026-12-06T00:00:00+00:00")
    doc = json.loads(open(path).read())
    assert doc["generatedAt"] == "2026-12-06T00:00:00+00:00"
    assert [h["key"] for h in doc["headlines"]] == list(figures)


def test_strongest_flare_compares_class_letters_before_magnitudes():
    month = dt.date(2024, 5, 1)
    rows = [
        {"month": month, "class_letter": "M", "flares": 40, "max_magnitude": 9.8},
        {"month": dt.date(2024, 6, 1), "class_letter": "X", "flares": 2, "max_magnitude": 1.1},
        {"month": month, "class_letter": "C", "flares": 100, "max_magnitude": 9.9},
    ]
    h = headlines.strongest_flare(rows)
    assert (h.value, h.detail) == ("X1.1", "in 2024-06; 142 flares in all")


def test_top_meteorite_class_and_empty_tables():
    rows = [{"rec_class": "L6", "landings": 8}, {"rec_class": "H5", "landings": 2}, {"rec_class": None, "landings": 90}]
    h = headlines.top_meteorite_class(rows)
    assert h.value == "L6: 8 of 10 landings"
    assert h.detail == "80% of 2 classes"
    for figure in (
        headlines.closest_neo,
        headlines.strongest_flare,
        headlines.top_meteorite_class,
        headlines.imagery_total,
    ):
        assert figure([]) is None


def test_busiest_event_category_sums_months():
    rows = [
        {"category_title": "Wildfires", "active_events": 3},
        {"category_title": "Severe Storms", "active_events": 4},
        {"category_title": "Wildfires", "active_events": 2},
    ]
    assert headlines.busiest_event_category(rows).value == "Wildfires: 5 event-months"
