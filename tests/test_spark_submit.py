"""`spark-submit jobs/<step>.py` as a real subprocess: the same code as the CLI and the bundle's tasks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests_support import ROOT

from speedrun.config import load_config
from speedrun.edges.local_session import delta_packages
from speedrun.edges.tables import read_split

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("spark-submit")]  # one worker: one Ivy cache

SPARK_SUBMIT = str(Path(sys.executable).parent / "spark-submit")


def spark_submit(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}
    return subprocess.run(
        [SPARK_SUBMIT, "--master", "local[1]", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_spark_submit_on_one_core_reproduces_the_two_core_run(spark, trained, overrides_for, tmp_path: Path) -> None:
    # GIVEN the shared run, made in this process on local[2]
    cfg, first = trained
    # WHEN spark-submit runs the whole pipeline's job script on local[1] with the same config elsewhere
    overrides = overrides_for(tmp_path)
    out = tmp_path / "metrics.json"
    result = spark_submit(
        "--packages",
        delta_packages(),
        "jobs/run.py",
        "--metrics-out",
        str(out),
        *[arg for o in overrides for arg in ("--set", o)],
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "evaluate  done" in result.stdout  # spark-submit pipes Python's stderr to its stdout
    # THEN the same rows land in the same splits, and the metrics are identical to the last bit
    second = json.loads(out.read_text())
    assert second["metrics"] == first.report["metrics"]
    assert second["confusion_matrix"] == first.report["confusion_matrix"]
    assert second["rows"] == first.report["rows"]
    keys = [read_split(spark, c, "test").select("_row_key") for c in (cfg, load_config("default", overrides))]
    assert keys[0].exceptAll(keys[1]).isEmpty() and keys[1].exceptAll(keys[0]).isEmpty()


def test_spark_submit_without_delta_is_a_clear_error(tmp_path: Path) -> None:
    # WHEN spark-submit runs a job without the Delta packages
    result = spark_submit("jobs/ingest.py", "--set", f"storage.work_dir={tmp_path}")
    # THEN it fails with one line saying how to add Delta, and writes nothing (no fallback to Parquet)
    assert result.returncode == 2
    assert (
        "speedrun ingest: error: Delta Lake is not available in this Spark session: "
        "start it with `--packages io.delta:delta-spark_2.13" in result.stdout
    )
    assert "Traceback" not in result.stdout + result.stderr
    assert not (tmp_path / "warehouse").exists()
