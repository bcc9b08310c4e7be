"""The Jobs API of the local Databricks emulator, driven by Databricks' own Python SDK (databricks-sdk)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import NOTEBOOK, client_for
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import InvalidParameterValue, NotFound, NotImplemented, ResourceDoesNotExist, Unauthenticated
from databricks.sdk.service import compute, jobs

WAIT = timedelta(seconds=60)


def task(key: str, message: str = "ok", depends_on: list[str] | None = None) -> jobs.Task:
    return jobs.Task(
        task_key=key,
        notebook_task=jobs.NotebookTask(notebook_path=NOTEBOOK, base_parameters={"message": message}),
        depends_on=[jobs.TaskDependency(task_key=d) for d in depends_on or []],
    )


def chain(w: WorkspaceClient, name: str, **settings) -> int:
    """A three-task job bronze → silver → gold."""
    return w.jobs.create(
        name=name,
        tasks=[task("bronze"), task("silver", depends_on=["bronze"]), task("gold", depends_on=["silver"])],
        **settings,
    ).job_id


def single(w: WorkspaceClient, name: str, message: str = "ok", **settings) -> int:
    return w.jobs.create(name=name, tasks=[task("only_task", message)], **settings).job_id


def wait_until(w: WorkspaceClient, run_id: int, predicate, what: str) -> jobs.Run:
    """Polls runs/get until predicate(run) holds (the SDK's own waiters only wait for terminal states)."""
    import time

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        run = w.jobs.get_run(run_id)
        if predicate(run):
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} never reached: {what}")


def test_list_pages_through_every_job(w: WorkspaceClient, name: str) -> None:
    ids = {single(w, f"{name}-{i}") for i in range(5)}
    listed = {j.job_id for j in w.jobs.list(limit=2)}  # the SDK follows next_page_token
    assert ids <= listed
    first = w.api_client.do("GET", "/api/2.2/jobs/list", query={"limit": 2})
    assert len(first["jobs"]) == 2 and first["has_more"] is True and first["next_page_token"]
    named = list(w.jobs.list(name=f"{name}-3"))
    assert [j.settings.name for j in named] == [f"{name}-3"]


def test_get_returns_the_full_settings(w: WorkspaceClient, name: str) -> None:
    job_id = w.jobs.create(
        name=name,
        tasks=[task("t")],
        tags={"project": "orbiter"},
        schedule=jobs.CronSchedule(
            quartz_cron_expression="0 30 2 * * ?", timezone_id="UTC", pause_status=jobs.PauseStatus.PAUSED
        ),
        job_clusters=[
            jobs.JobCluster(
                job_cluster_key="c", new_cluster=compute.ClusterSpec(spark_version="16.4.x-scala2.12", num_workers=1)
            )
        ],
        webhook_notifications=jobs.WebhookNotifications(on_failure=[jobs.Webhook(id="hook-1")]),
        health=jobs.JobsHealthRules(
            rules=[
                jobs.JobsHealthRule(
                    metric=jobs.JobsHealthMetric.RUN_DURATION_SECONDS,
                    op=jobs.JobsHealthOperator.GREATER_THAN,
                    value=3600,
                )
            ]
        ),
        edit_mode=jobs.JobEditMode.UI_LOCKED,
        parameters=[jobs.JobParameterDefinition(name="source", default="neows")],
        max_concurrent_runs=3,
    ).job_id
    s = w.jobs.get(job_id).settings
    assert s.name == name and s.tags == {"project": "orbiter"}
    assert s.schedule.quartz_cron_expression == "0 30 2 * * ?" and s.schedule.pause_status == jobs.PauseStatus.PAUSED
    assert s.job_clusters[0].job_cluster_key == "c"
    assert s.webhook_notifications.on_failure[0].id == "hook-1"
    assert s.health.rules[0].value == 3600
    assert s.edit_mode == jobs.JobEditMode.UI_LOCKED
    assert s.max_concurrent_runs == 3 and s.parameters[0].default == "neows"
    assert [t.task_key for t in s.tasks] == ["t"]


def test_run_now_and_wait_then_runs_output_and_list(w: WorkspaceClient, name: str) -> None:
    job_id = chain(w, name)
    run = w.jobs.run_now_and_wait(job_id, timeout=WAIT)
    assert run.state.life_cycle_state == jobs.RunLifeCycleState.TERMINATED
    assert run.state.result_state == jobs.RunResultState.SUCCESS
    assert run.status.termination_details.code == jobs.TerminationCodeCode.SUCCESS
    assert [t.task_key for t in run.tasks] == ["bronze", "silver", "gold"]
    out = w.jobs.get_run_output(run.tasks[0].run_id)
    assert out.notebook_output.result == "echo:ok"
    assert out.metadata.run_id == run.tasks[0].run_id and out.metadata.job_id == job_id
    listed = list(w.jobs.list_runs(job_id=job_id))
    assert [r.run_id for r in listed] == [run.run_id]
    with pytest.raises(InvalidParameterValue):
        w.jobs.get_run_output(run.run_id)  # a multi-task run has no single output


def test_idempotency_token_returns_the_same_run(w: WorkspaceClient, name: str) -> None:
    job_id = single(w, name)
    first = w.jobs.run_now(job_id, idempotency_token=f"{name}-token").response.run_id
    again = w.jobs.run_now(job_id, idempotency_token=f"{name}-token").response.run_id
    assert first == again
    w.jobs.wait_get_run_job_terminated_or_skipped(first, timeout=WAIT)
    assert len(list(w.jobs.list_runs(job_id=job_id))) == 1


def test_a_failed_task_fails_the_run_and_skips_downstream(w: WorkspaceClient, name: str) -> None:
    job_id = w.jobs.create(name=name, tasks=[task("a", "fail"), task("b", depends_on=["a"])]).job_id
    run = w.jobs.run_now_and_wait(job_id, timeout=WAIT)
    assert run.state.result_state == jobs.RunResultState.FAILED
    states = {t.task_key: t.state.result_state for t in run.tasks}
    assert states == {"a": jobs.RunResultState.FAILED, "b": jobs.RunResultState.UPSTREAM_FAILED}
    out = w.jobs.get_run_output(run.tasks[0].run_id)
    assert "asked to fail" in out.error and out.error_trace


def test_cancel_run_and_wait(w: WorkspaceClient, name: str) -> None:
    job_id = single(w, name, "sleep")
    run_id = w.jobs.run_now(job_id).response.run_id
    wait_until(w, run_id, lambda r: r.state.life_cycle_state == jobs.RunLifeCycleState.RUNNING, "RUNNING")
    run = w.jobs.cancel_run_and_wait(run_id, timeout=WAIT)
    assert run.state.result_state == jobs.RunResultState.CANCELED
    assert run.tasks[0].state.result_state == jobs.RunResultState.CANCELED


def test_queue_reason_and_cancel_all(w: WorkspaceClient, name: str) -> None:
    job_id = single(w, name, "sleep", max_concurrent_runs=1, queue=jobs.QueueSettings(enabled=True))
    runs = [w.jobs.run_now(job_id).response.run_id for _ in range(3)]
    queued = wait_until(w, runs[2], lambda r: r.state.life_cycle_state == jobs.RunLifeCycleState.QUEUED, "QUEUED")
    assert queued.status.queue_details.code == jobs.QueueDetailsCodeCode.MAX_CONCURRENT_RUNS_REACHED
    w.jobs.cancel_all_runs(job_id=job_id)
    for run_id in runs:
        run = w.jobs.wait_get_run_job_terminated_or_skipped(run_id, timeout=WAIT)
        assert run.state.result_state == jobs.RunResultState.CANCELED
    with pytest.raises(InvalidParameterValue):
        w.jobs.cancel_all_runs()  # neither job_id nor all_queued_runs


def test_a_skipped_run_ends_its_tasks(w: WorkspaceClient, name: str) -> None:
    job_id = single(w, name, "sleep", max_concurrent_runs=1, queue=jobs.QueueSettings(enabled=False))
    first = w.jobs.run_now(job_id).response.run_id
    skipped = w.jobs.run_now_and_wait(job_id, timeout=WAIT)
    assert skipped.state.life_cycle_state == jobs.RunLifeCycleState.SKIPPED
    assert all(t.state.life_cycle_state == jobs.RunLifeCycleState.SKIPPED for t in skipped.tasks)
    w.jobs.cancel_run_and_wait(first, timeout=WAIT)


def test_repair_keeps_superseded_task_runs_readable(w: WorkspaceClient, name: str) -> None:
    job_id = w.jobs.create(
        name=name,
        tasks=[task("a", "{{job.parameters.message}}"), task("b", depends_on=["a"])],
        parameters=[jobs.JobParameterDefinition(name="message", default="fail")],
    ).job_id
    failed = w.jobs.run_now_and_wait(job_id, timeout=WAIT)
    assert failed.state.result_state == jobs.RunResultState.FAILED
    old_task = failed.tasks[0].run_id
    repaired = w.jobs.repair_run_and_wait(
        failed.run_id, rerun_all_failed_tasks=True, job_parameters={"message": "fixed"}, timeout=WAIT
    )
    assert repaired.state.result_state == jobs.RunResultState.SUCCESS
    assert [h.type for h in repaired.repair_history] == [
        jobs.RepairHistoryItemType.ORIGINAL,
        jobs.RepairHistoryItemType.REPAIR,
    ]
    assert old_task in repaired.repair_history[0].task_run_ids
    assert w.jobs.get_run(old_task).state.result_state == jobs.RunResultState.FAILED
    assert "asked to fail" in w.jobs.get_run_output(old_task).error
    assert w.jobs.get_run_output(repaired.tasks[0].run_id).notebook_output.result == "echo:fixed"
    with pytest.raises(InvalidParameterValue):  # latest_repair_id must name the last repair now
        w.jobs.repair_run(failed.run_id, rerun_tasks=["a"])


def test_only_runs_the_named_tasks(w: WorkspaceClient, name: str) -> None:
    job_id = chain(w, name)
    run = w.jobs.run_now_and_wait(job_id, only=["silver"], timeout=WAIT)
    assert [t.task_key for t in run.tasks] == ["silver"] and run.state.result_state == jobs.RunResultState.SUCCESS
    upstream = w.jobs.run_now_and_wait(job_id, only=["+silver"], timeout=WAIT)
    assert sorted(t.task_key for t in upstream.tasks) == ["bronze", "silver"]
    with pytest.raises(InvalidParameterValue, match="nope"):
        w.jobs.run_now(job_id, only=["nope"])


def test_legacy_parameters(w: WorkspaceClient, name: str) -> None:
    with_params = w.jobs.create(
        name=name, tasks=[task("t")], parameters=[jobs.JobParameterDefinition(name="message", default="x")]
    ).job_id
    with pytest.raises(InvalidParameterValue, match="notebook_params"):
        w.jobs.run_now(with_params, notebook_params={"message": "hi"})
    legacy = single(w, f"{name}-legacy")
    run = w.jobs.run_now_and_wait(legacy, notebook_params={"message": "hello"}, timeout=WAIT)
    assert w.jobs.get_run_output(run.tasks[0].run_id).notebook_output.result == "echo:hello"
    with pytest.raises(InvalidParameterValue, match="python_params"):
        w.jobs.run_now(legacy, python_params=["a"])


def test_unknown_fields_are_refused(w: WorkspaceClient, name: str) -> None:
    job_id = single(w, name)
    with pytest.raises(InvalidParameterValue, match="bogus"):
        w.api_client.do("POST", "/api/2.2/jobs/run-now", body={"job_id": job_id, "bogus": 1})
    assert list(w.jobs.list_runs(job_id=job_id)) == []


def test_job_parameter_values_are_strings(w: WorkspaceClient, name: str) -> None:
    job_id = w.jobs.create(
        name=name, tasks=[task("t")], parameters=[jobs.JobParameterDefinition(name="n", default="1")]
    ).job_id
    run_id = w.api_client.do("POST", "/api/2.2/jobs/run-now", body={"job_id": job_id, "job_parameters": {"n": 5}})[
        "run_id"
    ]
    run = w.jobs.wait_get_run_job_terminated_or_skipped(run_id, timeout=WAIT)
    assert [(p.name, p.value) for p in run.job_parameters] == [("n", "5")]
    with pytest.raises(InvalidParameterValue):
        w.jobs.run_now(job_id, job_parameters={"undefined_name": "x"})


def test_submit_delete_and_export_a_one_time_run(w: WorkspaceClient, name: str) -> None:
    run = w.jobs.submit_and_wait(
        run_name=name,
        tasks=[
            jobs.SubmitTask(
                task_key="once",
                notebook_task=jobs.NotebookTask(notebook_path=NOTEBOOK, base_parameters={"message": "s"}),
            )
        ],
        timeout=WAIT,
    )
    assert run.run_type == jobs.RunType.SUBMIT_RUN and run.state.result_state == jobs.RunResultState.SUCCESS
    assert name not in {j.settings.name for j in w.jobs.list()}
    exported = w.jobs.export_run(run.tasks[0].run_id)
    assert exported.views[0].type == jobs.ViewType.NOTEBOOK and "dbutils" in exported.views[0].content
    w.jobs.delete_run(run.run_id)
    with pytest.raises(ResourceDoesNotExist):
        w.jobs.get_run(run.run_id)


def test_an_active_run_cannot_be_deleted(w: WorkspaceClient, name: str) -> None:
    run_id = w.jobs.run_now(single(w, name, "sleep")).response.run_id
    with pytest.raises(InvalidParameterValue):
        w.jobs.delete_run(run_id)
    w.jobs.cancel_run_and_wait(run_id, timeout=WAIT)


def test_error_classes(w: WorkspaceClient, emulator) -> None:
    # Databricks answers 400 INVALID_PARAMETER_VALUE "Job … does not exist."; the SDK maps that to ResourceDoesNotExist.
    with pytest.raises(ResourceDoesNotExist, match="does not exist"):
        w.jobs.get(987654321)
    with pytest.raises(ResourceDoesNotExist, match="does not exist"):
        w.jobs.get_run(987654321)
    with pytest.raises(InvalidParameterValue, match="does not exist"):
        w.jobs.run_now(987654321)
    with pytest.raises(Unauthenticated):
        list(client_for(emulator, "wrong-token").jobs.list())
    # Jobs API paths the emulator does not serve (the 2.0 shapes) are 501, which the SDK maps to NotImplemented.
    with pytest.raises(NotImplemented):
        w.api_client.do("GET", "/api/2.0/jobs/list")
    with pytest.raises(NotFound):
        w.api_client.do("GET", "/api/2.0/no-such-api")


def test_update_reset_and_delete_a_job(w: WorkspaceClient, name: str) -> None:
    job_id = chain(w, name, tags={"team": "a"})
    w.jobs.update(job_id, new_settings=jobs.JobSettings(name=f"{name}-renamed"), fields_to_remove=["tags"])
    s = w.jobs.get(job_id).settings
    assert s.name == f"{name}-renamed" and not s.tags and [t.task_key for t in s.tasks] == ["bronze", "silver", "gold"]
    w.jobs.reset(job_id, new_settings=jobs.JobSettings(name=f"{name}-reset", tasks=[task("only")]))
    run = w.jobs.run_now_and_wait(job_id, timeout=WAIT)
    assert [t.task_key for t in run.tasks] == ["only"] and run.state.result_state == jobs.RunResultState.SUCCESS
    with pytest.raises(InvalidParameterValue, match="schedule"):
        w.jobs.reset(
            job_id,
            new_settings=jobs.JobSettings(
                name=name, schedule=jobs.CronSchedule(quartz_cron_expression="30 2 * * *", timezone_id="UTC")
            ),
        )
    w.jobs.delete(job_id)
    with pytest.raises(ResourceDoesNotExist):
        w.jobs.get(job_id)
