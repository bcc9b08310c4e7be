"""Independent queries side by side: results in order, errors raised, the caller's job group kept (cancel works)."""

import threading

import pytest

from orbiter_lake import gold_rows
from orbiter_lake.concurrent_queries import map_queries


def test_results_come_back_in_the_order_of_the_items_from_several_threads(spark):
    seen = set()

    def work(i):
        seen.add(threading.current_thread().name)
        return i * i

    assert map_queries(spark, work, range(12), threads=3) == [i * i for i in range(12)]
    assert map_queries(spark, work, [], threads=3) == []
    assert any(name.startswith("orbiter-query") for name in seen)


def test_the_first_error_is_raised_and_items_not_started_are_dropped(spark):
    started = []
    gate = threading.Event()

    def work(i):
        started.append(i)
        if i == 0:
            gate.wait(30)
            raise ValueError("bad item 0")
        gate.set()
        return i

    with pytest.raises(ValueError, match="bad item 0"):
        map_queries(spark, work, range(50), threads=2)
    assert len(started) < 50


def test_threads_must_be_positive(spark):
    with pytest.raises(ValueError, match="threads must be at least 1"):
        map_queries(spark, lambda i: i, [1, 2], threads=0)


def test_queries_run_in_the_callers_job_group_and_local_properties(spark):
    sc = spark.sparkContext
    sc.setJobGroup("orbiter-test-group", "side by side", interruptOnCancel=True)
    sc.setLocalProperty("orbiter.test.marker", "m1")
    try:
        before = set(sc.statusTracker().getJobIdsForGroup("orbiter-test-group"))
        spark.addTag("orbiter-test-tag")
        props = map_queries(
            spark,
            lambda n: (spark.range(n).count(), sc.getLocalProperty("orbiter.test.marker"), spark.getTags()),
            [10, 20, 30, 40],
        )
        after = set(sc.statusTracker().getJobIdsForGroup("orbiter-test-group"))
    finally:
        spark.removeTag("orbiter-test-tag")
        sc.setLocalProperty("orbiter.test.marker", None)
        sc.setLocalProperty("spark.jobGroup.id", None)
        sc.setLocalProperty("spark.job.description", None)
        sc.setLocalProperty("spark.job.interruptOnCancel", None)
    assert [(n, m) for n, m, _ in props] == [(10, "m1"), (20, "m1"), (30, "m1"), (40, "m1")]
    assert all("orbiter-test-tag" in tags for _, _, tags in props)
    assert len(after - before) >= 4  # every count ran a job in the caller's group


def test_rows_of_uses_tables_already_read_and_reads_the_rest(spark, fixture_lake):
    known = {"flare_class_monthly": [{"n": i} for i in range(10)], "imagery_coverage_daily": None}
    rows = gold_rows.rows_of(
        spark,
        fixture_lake,
        ["flare_class_monthly", "imagery_coverage_daily", "fireball_energy_yearly", "nope"],
        known,
        1,
    )
    assert rows["flare_class_monthly"] == [{"n": 0}]  # known rows, cut to the limit
    assert rows["imagery_coverage_daily"] is None  # known missing: not read again
    assert rows["nope"] is None  # no such table
    assert len(rows["fireball_energy_yearly"]) == 1 and "year" in rows["fireball_energy_yearly"][0]
    whole = gold_rows.read(spark, fixture_lake, "fireball_energy_yearly")
    assert len(whole) == spark.read.format("delta").load(f"{fixture_lake}/gold/fireball_energy_yearly").count() > 1
