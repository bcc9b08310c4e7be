import json
import os
import shutil

from helpers import read_table
from orbiter_lake import events


def write_event(
    lake, run, state, duration_ms, *, job="orbiter-neows-pipeline", hour=14, databricks_run_id=None, name=None, **extra
):
    event = {
        "event_version": 1,
        "orbiter_run_id": run,
        "job_name": job,
        "dataset": job.split("-")[1] if job else None,
        "databricks_run_id": databricks_run_id if databricks_run_id is not None else 1000 + len(run),
        "result_state": state,
        "termination_code": "SUCCESS" if state == "SUCCESS" else "RUN_EXECUTION_ERROR",
        "requested_at": f"2026-11-24T{hour:02d}:00:00.000Z",
        "started_at": f"2026-11-24T{hour:02d}:00:05.000Z",
        "ended_at": f"2026-11-24T{hour:02d}:20:00.000Z",
        "duration_ms": duration_ms,
        "inputs": [
            {
                "container": "raw",
                "path": "neows/feed/2024/05/25/2024-05-25_2024-05-31.0123456789abcdef.json",
                "etag": "0x1",
            }
        ],
        **extra,
    }
    d = os.path.join(lake, "events", "run-completions", "date=2026-11-24")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"{name or run}.json"), "w") as fh:
        json.dump(event, fh, indent=2)


def metrics(spark, lake):
    return {
        (r["job_name"], r["hour_start"].hour): r
        for r in read_table(spark, lake, "gold", "run_metrics_hourly").collect()
    }


def test_metrics_stream_counts_each_run_once_across_reruns_and_replays(spark, lake):
    write_event(lake, "run-a", "SUCCESS", 1000, databricks_run_id=1)
    write_event(lake, "run-b", "FAILED", 3000, databricks_run_id=2)
    write_event(lake, "run-c", "SUCCESS", "2000", databricks_run_id="3")  # numeric strings are accepted
    events.run_metrics_stream(spark, lake)
    m = metrics(spark, lake)[("orbiter-neows-pipeline", 14)]
    assert (m["runs"], m["succeeded"], m["failed"]) == (3, 2, 1)
    assert abs(m["success_rate"] - 2 / 3) < 1e-9
    assert (m["duration_p50_ms"], m["duration_max_ms"], m["dataset"]) == (2000.0, 3000, "neows")

    # new runs (one in another hour and job) + the same event written again under another name + an invalid one
    write_event(lake, "run-d", "SUCCESS", 4000, databricks_run_id=4)
    write_event(lake, "run-a", "SUCCESS", 1000, databricks_run_id=1, name="run-a-copy")
    write_event(lake, "run-e", "TIMEDOUT", 9000, databricks_run_id=5, hour=15, job="orbiter-donki-pipeline")
    write_event(lake, "run-f", "SUCCESS", 10, databricks_run_id=6, job=None)
    events.run_metrics_stream(spark, lake)
    events.run_metrics_stream(spark, lake)  # nothing new: checkpoint
    shutil.rmtree(os.path.join(lake, "checkpoints", "run_metrics"))
    events.run_metrics_stream(spark, lake)  # full replay: still no double counting

    m = metrics(spark, lake)
    neows = m[("orbiter-neows-pipeline", 14)]
    assert (neows["runs"], neows["succeeded"], neows["failed"]) == (4, 3, 1)
    assert neows["duration_p50_ms"] == 2500.0  # median of 1000, 2000, 3000, 4000
    donki = m[("orbiter-donki-pipeline", 15)]
    assert (donki["runs"], donki["succeeded"], donki["success_rate"]) == (1, 0, 0.0)
    assert set(m) == {("orbiter-neows-pipeline", 14), ("orbiter-donki-pipeline", 15)}

    completions = read_table(spark, lake, "silver", "run_completions")
    assert completions.count() == 6
    invalid = completions.where("_invalid is not null").collect()
    assert [r["_invalid"] for r in invalid] == ["missing job_name"]
    assert completions.where("orbiter_run_id = 'run-a'").first()["inputs"][0]["container"] == "raw"


def test_metrics_stream_on_a_fresh_lake_without_events_is_not_an_error(spark, lake):
    # No events folder at all (no run has completed yet), then an empty one: nothing to count, no tables written.
    assert events.run_metrics_stream(spark, lake, "files") is None
    assert events.metrics_summary(spark, lake) == {"run_completions": 0, "run_metrics_hourly": 0}
    os.makedirs(os.path.join(lake, "events", "run-completions"))
    assert events.run_metrics_stream(spark, lake, "files") is not None
    assert events.metrics_summary(spark, lake) == {"run_completions": 0, "run_metrics_hourly": 0}
    # The first event then counts as usual.
    write_event(lake, "run-1", "SUCCESS", 1000)
    events.run_metrics_stream(spark, lake, "files")
    assert events.metrics_summary(spark, lake) == {"run_completions": 1, "run_metrics_hourly": 1}
