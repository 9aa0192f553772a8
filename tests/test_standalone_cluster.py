"""Nothing depends on local mode, the number of cores or the process: `spark-submit jobs/run.py` on a Spark
standalone cluster (a master and a one-core worker on 127.0.0.1, started from pyspark's own scripts) tunes the
tests' search and gives the same tables, splits, candidates' scores and metrics as the run in the tests' session
on local[2]."""

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
from tests_support import ROOT, SEARCH

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
                "1",
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


def test_a_tuned_run_on_a_one_core_standalone_cluster_reproduces_the_local_one_bit_for_bit(
    spark, tuned, standalone_cluster, overrides_for, tmp_path: Path
) -> None:
    # GIVEN a master and a one-core worker on 127.0.0.1, and the tuned run made in this process on local[2]
    url, env = standalone_cluster
    cfg, local = tuned
    overrides = [*overrides_for(tmp_path / "work"), SEARCH]
    # WHEN spark-submit runs the training pipeline's job script on the cluster, with the same config elsewhere
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
    assert "evaluate  done" in result.stdout  # spark-submit pipes Python's stderr to its stdout
    # THEN it wrote the same tables, the same rows in the same splits, and the same metrics to the last bit
    clustered = json.loads(out.read_text())
    for key in ("rows", "metrics", "confusion_matrix"):
        assert clustered[key] == local.report[key], key
    there = Tables(load_config("default", overrides))
    for role in ("bronze", "silver", "quarantine"):
        assert there.read(spark, role).count() == Tables(cfg).read(spark, role).count(), role
    for name in ("train", "validation", "test"):
        keys = [read_split(spark, c, name).select("_row_key") for c in (cfg, there.cfg)]
        assert keys[0].exceptAll(keys[1]).isEmpty() and keys[1].exceptAll(keys[0]).isEmpty(), name
    # AND every candidate of the search scored the same on validation
    run_id = there.read(spark, "training_runs").first()["run_id"]
    board = there.cfg.storage.resolve(f"runs/{there.cfg.name}/{run_id}/report/leaderboard.json")
    local_board = Path(local.report_path).parent / "leaderboard.json"
    candidates = [[c["metrics"] for c in json.loads(Path(b).read_text())["candidates"]] for b in (board, local_board)]
    assert candidates[0] == candidates[1] and len(candidates[0]) == 3
