import json
import os
import subprocess
import sys
import textwrap

import pytest

from helpers import REPO_ROOT, RUNNER_DIR, land_fixtures, runner_module

rn = runner_module()

NOTEBOOK = textwrap.dedent(
    """\
    # Databricks notebook source
    dbutils.widgets.text("who", "default-who")
    dbutils.widgets.dropdown("color", "red", ["red", "blue"])

    # COMMAND ----------

    # MAGIC %md
    # MAGIC # Title
    # MAGIC some text

    # COMMAND ----------

    # MAGIC %run ./child

    # COMMAND ----------

    # MAGIC %sql
    # MAGIC SELECT 41 + 1 AS answer

    # COMMAND ----------

    answer = _sqldf.first()["answer"]
    display(spark.range(3))
    dbutils.notebook.exit(json.dumps({"who": dbutils.widgets.get("who"), "color": dbutils.widgets.get("color"),
                                      "answer": answer, "from_child": CHILD_VALUE}))

    # COMMAND ----------

    raise AssertionError("cells after notebook.exit must not run")
    """
)
CHILD = "# Databricks notebook source\nimport json\nCHILD_VALUE = 'child-ran'\n"
FAILING = textwrap.dedent(
    """\
    # Databricks notebook source
    x = 1

    # COMMAND ----------

    def explode():
        raise ValueError("boom from cell two")

    explode()
    """
)


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_parse_notebook_cells_kinds_and_lines():
    cells = rn.parse_notebook(NOTEBOOK)
    assert [c.kind for c in cells] == ["python", "md", "run", "sql", "python", "python"]
    assert cells[0].first_line == 2 and cells[2].source.strip() == "./child"
    assert cells[3].source.strip() == "SELECT 41 + 1 AS answer"
    with pytest.raises(rn.NotebookFormatError):
        rn.parse_notebook("print('not a notebook')\n")


def test_runner_executes_cells_widgets_sql_run_display_and_exit(spark, tmp_path):
    write(tmp_path, "child.py", CHILD)
    nb = write(tmp_path, "main.py", NOTEBOOK)
    runner = rn.Runner(spark, {"who": "job-param"}, str(tmp_path / "display"))
    output = json.loads(runner.run(nb))
    assert output == {"who": "job-param", "color": "red", "answer": 42, "from_child": "child-ran"}
    shown = sorted(os.listdir(tmp_path / "display"))
    assert len(shown) == 2  # the %sql result and display(spark.range(3))
    rows = json.loads((tmp_path / "display" / shown[1]).read_text())["rows"]
    assert rows == [{"id": 0}, {"id": 1}, {"id": 2}]


def test_widgets_and_secrets_shim(monkeypatch):
    w = rn.Widgets({"a": "from-job"})
    w.text("a", "default")
    w.text("b", "b-default")
    assert (w.get("a"), w.get("b")) == ("from-job", "b-default")
    with pytest.raises(rn.InputWidgetNotDefined):
        w.get("missing")
    with pytest.raises(ValueError):
        rn.Widgets({"c": "green"}).dropdown("c", "red", ["red", "blue"])
    monkeypatch.setenv("DATABRICKS_SECRET_ORBITER_NASA_API_KEY", "s3cret")
    assert rn.Secrets().get("orbiter", "nasa-api-key") == "s3cret"


def run_cli(notebook, params, result):
    proc = subprocess.run(
        [
            sys.executable,
            os.path.join(RUNNER_DIR, "run_notebook.py"),
            "--notebook",
            notebook,
            "--params",
            json.dumps(params),
            "--result",
            result,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO_ROOT,
    )
    with open(result) as fh:
        return proc, json.load(fh)


def test_cli_runs_a_real_notebook_end_to_end(tmp_path):
    lake = str(tmp_path / "lake")
    landed = land_fixtures(lake, ("fireball",))
    params = {
        "source": "fireball",
        "lake_root": lake,
        "input_manifest": "",
        "orbiter_run_id": "run-cli-1",
        "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    }
    proc, result = run_cli(
        os.path.join(REPO_ROOT, "notebooks", "bronze.py"), params, str(tmp_path / "out" / "result.json")
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert result["result_state"] == "SUCCESS" and result["error"] is None
    raw_bytes = sum(os.path.getsize(os.path.join(lake, "raw", name)) for name in landed)
    assert raw_bytes > 0
    assert json.loads(result["notebook_output"]) == {
        "orbiter_run_id": "run-cli-1",
        "source": "fireball",
        "stage": "bronze",
        "files": {"fireball": 1},
        "bytes_read": raw_bytes,  # the batch's raw input size, which the cost report reads
    }
    assert "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" in proc.stdout  # traceparent logged
    assert os.path.isdir(os.path.join(lake, "bronze", "fireball", "_delta_log"))


def test_cli_reports_failure_with_traceback(tmp_path):
    nb = write(tmp_path, "failing.py", FAILING)
    proc, result = run_cli(nb, {}, str(tmp_path / "result.json"))
    assert proc.returncode == 1
    assert result["result_state"] == "FAILED" and result["notebook_output"] is None
    assert result["error"] == "ValueError: boom from cell two"
    assert "failing.py [cell 2]" in result["error_trace"] and "line 7" in result["error_trace"]
    assert 'raise ValueError("boom from cell two")' in result["error_trace"]
