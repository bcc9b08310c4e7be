"""Table layout and maintenance on local Spark + open-source Delta (what the orbiter-table-maintenance job runs)."""

import os

import pytest
from helpers import land_fixtures
from orbiter_lake import bronze, gold, layout, maintenance, silver
from orbiter_lake.lake import LakeError


def detail(spark, path):
    return spark.sql(f"DESCRIBE DETAIL delta.`{path}`").collect()[0]


def test_zone_and_table_from_local_and_abfss_paths():
    assert layout.zone_and_table("/tmp/lake/silver/fireballs/") == ("silver", "fireballs")
    assert layout.zone_and_table("abfss://silver@acct.dfs.core.windows.net/fireballs") == ("silver", "fireballs")


def test_properties_per_platform():
    oss = layout.properties(databricks=False)
    assert oss["delta.autoOptimize.autoCompact"] == "true" and oss["delta.autoOptimize.optimizeWrite"] == "true"
    assert "delta.tuneFileSizesForRewrites" not in oss
    assert layout.properties(databricks=True)["delta.tuneFileSizesForRewrites"] == "true"


def test_clustering_keys_follow_merge_keys():
    assert layout.clustering("silver", "neo_close_approaches") == ("neo_id", "close_approach_epoch_ms")
    assert layout.clustering("silver", "fireballs") == ("peak_at",)
    assert layout.clustering("bronze", "donki_flr") == ("_blob_name",)
    assert layout.clustering("gold", "fireball_energy_yearly") == ()


@pytest.mark.parametrize("hours", ["0", "167.9", "-1", "abc"])
def test_retention_below_the_floor_or_not_a_number_is_rejected(hours):
    with pytest.raises(LakeError, match="vacuum_retention_hours"):
        maintenance.parse_retention(hours)


def test_retention_defaults_to_seven_days():
    assert maintenance.parse_retention("") == 168.0


@pytest.fixture(scope="module")
def fireball_lake(spark, tmp_path_factory):
    root = str(tmp_path_factory.mktemp("maint") / "lake")
    names = land_fixtures(root, ("fireball",))
    stats = {}
    bronze.run_bronze(spark, root, "fireball", "batch", stats=stats)
    # the cost report's input size: the raw bytes the run read
    assert stats["bytes_read"] == sum(os.path.getsize(os.path.join(root, "raw", n)) for n in names)
    silver.run_silver(spark, root, "fireball")
    gold.run_gold(spark, root, "fireball")
    return root


def test_new_tables_start_with_the_layout(spark, fireball_lake):
    d = detail(spark, os.path.join(fireball_lake, "silver", "fireballs"))
    assert list(d["clusteringColumns"]) == ["peak_at"]
    for k, v in layout.properties(databricks=False).items():
        assert d["properties"].get(k) == v


def test_gold_aggregates_overwritten_whole_skip_auto_compaction(spark, fireball_lake):
    d = detail(spark, os.path.join(fireball_lake, "gold", "fireball_energy_yearly"))
    assert d["properties"].get("delta.autoOptimize.autoCompact") == "false"
    assert d["properties"].get("delta.autoOptimize.optimizeWrite") == "true"
    assert list(d["clusteringColumns"]) == []
    # a MERGEd gold table keeps it
    assert layout.table_properties("gold", "run_metrics_hourly", False)["delta.autoOptimize.autoCompact"] == "true"


def test_gold_written_before_the_per_table_properties_is_corrected(spark, tmp_path):
    path = str(tmp_path / "gold" / "fireball_energy_yearly")
    spark.range(3).write.format("delta").option("delta.autoOptimize.autoCompact", "true").save(path)
    assert layout.ensure_layout(spark, path, databricks=False) == [
        "properties delta.autoOptimize.autoCompact, "
        "delta.autoOptimize.optimizeWrite, "
        "delta.deletedFileRetentionDuration, "
        "delta.logRetentionDuration"
    ]
    assert detail(spark, path)["properties"]["delta.autoOptimize.autoCompact"] == "false"


def test_gold_rows_written_are_reported(spark, fireball_lake):
    written = gold.run_gold(spark, fireball_lake, "fireball")
    for table, rows in written.items():
        assert rows == spark.read.format("delta").load(os.path.join(fireball_lake, "gold", table)).count() > 0


def test_small_files_are_compacted_data_unchanged(spark, tmp_path):
    path = str(tmp_path / "silver" / "fireballs")
    spark.conf.set(layout.LAYOUT_CONF, "off")  # an unmaintained table: many appends, no properties
    try:
        for i in range(8):
            spark.range(i * 5, i * 5 + 5, numPartitions=2).selectExpr(
                "id", "timestamp_seconds(id) as peak_at"
            ).write.format("delta").mode("append").save(path)
    finally:
        spark.conf.unset(layout.LAYOUT_CONF)
    before = sorted(r.id for r in spark.read.format("delta").load(path).collect())
    r = maintenance.maintain_table(spark, "silver", "fireballs", path, 168)
    assert r.files_before == 16 and r.files_after == 1
    assert r.optimize["files_removed"] == 16 and r.optimize["files_added"] == 1
    assert any(c.startswith("cluster by peak_at") for c in r.layout_changes)
    assert sorted(x.id for x in spark.read.format("delta").load(path).collect()) == before
    # 7-day retention keeps the compacted-away files (time travel still works) ...
    assert r.files_on_disk_after == 17
    assert spark.read.format("delta").option("versionAsOf", 0).load(path).count() == 5
    # ... and "a week later" VACUUM removes them.
    maintenance.vacuum(spark, path, 0, below_floor_for_tests=True)
    assert maintenance.disk_usage(spark, path)[0] == 1
    with pytest.raises(LakeError):
        maintenance.vacuum(spark, path, 1)


def test_run_maintenance_for_one_source_is_idempotent(spark, fireball_lake):
    first = maintenance.run_maintenance(spark, fireball_lake, "fireball")
    tables = {(r["zone"], r["table"]) for r in first}
    assert {("bronze", "fireball"), ("silver", "fireballs"), ("gold", "fireball_energy_yearly")} <= tables
    assert all(r["error"] is None for r in first)
    assert all(r["statistics"].startswith("not supported") for r in first)
    second = maintenance.run_maintenance(spark, fireball_lake, "fireball")
    assert all(r["layout_changes"] == [] for r in second)  # nothing left to alter: no extra commits
    assert all(r["files_after"] <= 1 for r in second)
    totals = maintenance.summary(second)
    assert totals["failed"] == 0 and totals["tables"] == len(second)


def test_run_maintenance_rejects_unknown_source_and_short_retention(spark, fireball_lake):
    with pytest.raises(LakeError, match="source"):
        maintenance.run_maintenance(spark, fireball_lake, "mars")
    with pytest.raises(LakeError, match="vacuum_retention_hours"):
        maintenance.run_maintenance(spark, fireball_lake, "all", 24)


def test_a_broken_table_is_reported_and_the_others_still_run(spark, tmp_path):
    root = str(tmp_path / "lake")
    good = os.path.join(root, "gold", "ok")
    spark.range(3).write.format("delta").save(good)
    broken = os.path.join(root, "gold", "broken")
    spark.range(3).write.format("delta").save(broken)
    for name in os.listdir(broken):  # data files gone: OPTIMIZE cannot read them
        if name.endswith(".parquet"):
            os.remove(os.path.join(broken, name))
    reports = {r["table"]: r for r in maintenance.run_maintenance(spark, root)}
    assert reports["ok"]["error"] is None
    assert reports["broken"]["error"]
