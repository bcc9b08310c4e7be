"""Schedules and continuous jobs fire in the local workspace, seen through Databricks' Python SDK (real time: the
schedule fires every second, so the waits are short; they poll for a condition, never sleep a fixed time)."""

from __future__ import annotations

import time

from conftest import NOTEBOOK
from databricks.sdk import WorkspaceClient
from databricks.sdk.service import jobs


def runs_when(w: WorkspaceClient, job_id: int, predicate, what: str) -> list[jobs.BaseRun]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        runs = list(w.jobs.list_runs(job_id=job_id))
        if predicate(runs):
            return runs
        time.sleep(0.1)
    raise AssertionError(f"job {job_id}: never saw {what}")


def notebook(message: str) -> list[jobs.Task]:
    return [
        jobs.Task(
            task_key="t", notebook_task=jobs.NotebookTask(notebook_path=NOTEBOOK, base_parameters={"message": message})
        )
    ]


def test_an_unpaused_schedule_fires_and_a_paused_one_does_not(w: WorkspaceClient, name: str) -> None:
    every_second = "* * * * * ?"
    paused = w.jobs.create(
        name=f"{name}-paused",
        tasks=notebook("ok"),
        schedule=jobs.CronSchedule(
            quartz_cron_expression=every_second, timezone_id="UTC", pause_status=jobs.PauseStatus.PAUSED
        ),
    ).job_id
    job_id = w.jobs.create(
        name=name,
        tasks=notebook("ok"),
        schedule=jobs.CronSchedule(
            quartz_cron_expression=every_second, timezone_id="UTC", pause_status=jobs.PauseStatus.UNPAUSED
        ),
    ).job_id
    runs = runs_when(w, job_id, lambda rs: len(rs) >= 1, "a scheduled run")
    assert runs[0].trigger == jobs.TriggerType.PERIODIC
    run = w.jobs.wait_get_run_job_terminated_or_skipped(runs[0].run_id)
    assert run.state.result_state == jobs.RunResultState.SUCCESS
    assert list(w.jobs.list_runs(job_id=paused)) == []


def test_a_continuous_job_keeps_one_run_and_restarts_it(w: WorkspaceClient, name: str) -> None:
    job_id = w.jobs.create(
        name=name, tasks=notebook("sleep"), continuous=jobs.Continuous(pause_status=jobs.PauseStatus.UNPAUSED)
    ).job_id
    first = runs_when(
        w,
        job_id,
        lambda rs: len(rs) == 1 and rs[0].state.life_cycle_state == jobs.RunLifeCycleState.RUNNING,
        "a running run",
    )
    assert first[0].trigger == jobs.TriggerType.CONTINUOUS
    w.jobs.cancel_run_and_wait(first[0].run_id)
    runs = runs_when(w, job_id, lambda rs: len(rs) == 2, "the restarted run")
    assert runs[0].trigger == jobs.TriggerType.CONTINUOUS_RESTART
    assert [r.run_id for r in w.jobs.list_runs(job_id=job_id, active_only=True)] == [runs[0].run_id]
