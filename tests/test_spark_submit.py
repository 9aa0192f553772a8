"""`spark-submit jobs/<step>.py` as a real subprocess: the same code as the CLI and the bundle's tasks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests_support import ROOT

from speedrun.config import load_config
from speedrun.session import delta_packages
from speedrun.tables import Tables

pytestmark = pytest.mark.slow

SPARK_SUBMIT = str(Path(sys.executable).parent / "spark-submit")


def spark_submit(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}
    return subprocess.run(
        [SPARK_SUBMIT, "--master", "local[1]", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_spark_submit_runs_a_job_script(spark, tmp_path: Path) -> None:
    # GIVEN a job script and overrides for a small dataset in a temporary folder
    overrides = [f"storage.work_dir={tmp_path}", "source.generate_if_missing.rows=300"]
    # WHEN spark-submit runs it with the Delta packages
    result = spark_submit(
        "--packages", delta_packages(), "jobs/ingest.py", *[arg for o in overrides for arg in ("--set", o)]
    )
    # THEN it succeeds and the bronze Delta table holds every generated row
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ingest    done" in result.stdout  # spark-submit pipes Python's stderr to its stdout
    assert Tables(load_config("default", overrides)).read(spark, "bronze").count() == 300


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
