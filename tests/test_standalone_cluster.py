"""Nothing depends on local mode: the training pipeline on a Spark standalone cluster (a master and a worker on
127.0.0.1, started from pyspark's own scripts) gives the same tables and metrics as in local mode."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests_support import ROOT

from speedrun.config import load_config
from speedrun.edges.local_session import delta_packages
from speedrun.edges.tables import Tables, read_split

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("spark-submit")]  # one worker: one Ivy cache
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(args: list[str], log: Path, ready: str, env: dict[str, str]) -> subprocess.Popen:
    """Start a Spark daemon in the foreground; wait (60 s at most) until its log says `ready`."""
    process = subprocess.Popen(
        [str(BIN / "spark-class"), *args], stdout=log.open("w"), stderr=subprocess.STDOUT, env=env
    )
    deadline = time.monotonic() + 60
    while ready not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"{args[0]} did not start:\n{log.read_text()[-2000:]}")
        time.sleep(0.5)
    return process


@pytest.fixture
def standalone_cluster(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    env = {
        **os.environ,
        "SPARK_LOCAL_IP": "127.0.0.1",
        "PYSPARK_PYTHON": sys.executable,
        "SPARK_WORKER_DIR": str(tmp_path / "worker"),
    }
    port = free_port()
    url = f"spark://127.0.0.1:{port}"
    master = start(
        [
            "org.apache.spark.deploy.master.Master",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--webui-port",
            str(free_port()),
        ],
        tmp_path / "master.log",
        "I have been elected leader",
        env,
    )
    try:
        worker = start(
            [
                "org.apache.spark.deploy.worker.Worker",
                url,
                "--host",
                "127.0.0.1",
                "--cores",
                "2",
                "--memory",
                "3g",
                "--webui-port",
                str(free_port()),
            ],
            tmp_path / "worker.log",
            "Successfully registered with master",
            env,
        )
        try:
            yield url, env
        finally:
            worker.terminate()
            worker.wait(30)
    finally:
        master.terminate()
        master.wait(30)


def test_the_pipeline_on_a_standalone_cluster_matches_local_mode(
    spark, trained, standalone_cluster, overrides_for, tmp_path: Path
) -> None:
    # GIVEN a master and a worker on 127.0.0.1, and the shared run made in local mode
    url, env = standalone_cluster
    cfg, local = trained
    overrides = overrides_for(tmp_path / "work")
    # WHEN spark-submit runs the training pipeline's job on the cluster
    out = tmp_path / "metrics.json"
    result = subprocess.run(
        [
            str(BIN / "spark-submit"),
            "--master",
            url,
            "--packages",
            delta_packages(),
            "--executor-memory",
            "2g",
            "jobs/run.py",
            "--metrics-out",
            str(out),
            *[a for o in overrides for a in ("--set", o)],
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    # THEN it wrote the same tables, with the same rows, and the same metrics as local mode
    clustered = json.loads(out.read_text())
    assert clustered["rows"] == local.report["rows"]
    assert clustered["metrics"] == local.report["metrics"]
    assert clustered["confusion_matrix"] == local.report["confusion_matrix"]
    there = Tables(load_config("default", overrides))
    for role in ("bronze", "silver", "quarantine"):
        assert there.read(spark, role).count() == Tables(cfg).read(spark, role).count(), role
    for name in ("train", "validation", "test"):
        assert read_split(spark, there.cfg, name).count() == read_split(spark, cfg, name).count(), name
