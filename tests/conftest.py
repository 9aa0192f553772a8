"""One session-scoped local Spark session with Delta, tuned for small test data."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from tests_support import SEARCH

from speedrun.config import Config, load_config
from speedrun.context import RunOptions
from speedrun.edges.session import get_spark
from speedrun.flow import run_pipeline
from speedrun.server.client import stop
from speedrun.steps.evaluate import Evaluation

TEST_SPARK_CONF = {
    "spark.sql.shuffle.partitions": "1",
    "spark.default.parallelism": "2",
    "spark.databricks.delta.snapshotPartitions": "1",
    # Interpreted expressions and plans, no generated code: on a few thousand rows, compiling each query's
    # generated Java (Janino, then the JIT on classes seen once) cost more than running it (the suite 113 s ->
    # 103 s on 2 cores). Same results: Spark's own suites run both modes; the e2e suite runs the product's settings.
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
    # No adaptive re-planning after each stage: on a few rows there is nothing to coalesce or split, and a small
    # job took 20-25 % less without it (a count of a Delta table 280 -> 200 ms, an overwrite 940 -> 710 ms, warm,
    # 2 cores). Same results; the e2e suite's commands run with the product's settings.
    "spark.sql.adaptive.enabled": "false",
}


RAM_FOLDER = Path("/dev/shm")
RAM_NEEDED = 4 * 2**30  # the e2e suite's two workers write a few hundred MB; leave room


def pytest_configure(config) -> None:
    """The tests' temporary folders (pytest's, MLflow's, the commands' they run) in memory where the machine has
    room there: every Delta commit and MLflow write of the suite is then a write to memory, not to a disk.
    `tmp_path_retention_policy = "failed"` (pyproject) removes them when the tests pass."""
    if RAM_FOLDER.is_dir() and os.access(RAM_FOLDER, os.W_OK) and shutil.disk_usage(RAM_FOLDER).free >= RAM_NEEDED:
        os.environ["TMPDIR"] = str(RAM_FOLDER)
        tempfile.tempdir = str(RAM_FOLDER)


@pytest.fixture(scope="session", autouse=True)
def server_folder(tmp_path_factory) -> Path:
    """The tests' own speedrun server (for the tests marked `server`), stopped when the tests end."""

    folder = tmp_path_factory.mktemp("server")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SPEEDRUN_SERVER_DIR", str(folder))
        yield folder
        stop(folder)


@pytest.fixture(autouse=True)
def one_jvm_unless_the_server_is_tested(request, monkeypatch) -> None:
    """A command a test runs runs in this process, in the tests' own session (no second JVM to warm up), unless
    the test is of the server (marked `server`: the tests' own server) or says which server it wants
    (`own_server`)."""
    if request.node.get_closest_marker("server") is None:
        monkeypatch.setenv("SPEEDRUN_SERVER", "0")


@pytest.fixture
def own_server(tmp_path: Path, monkeypatch) -> Path:
    """A server folder of this test's own; its server is stopped when the test ends."""
    folder = tmp_path / "server"
    monkeypatch.setenv("SPEEDRUN_SERVER_DIR", str(folder))
    monkeypatch.delenv("SPEEDRUN_SERVER", raising=False)
    yield folder
    stop(folder)


@pytest.fixture
def mlflow_downloads(tmp_path: Path, monkeypatch) -> Path:
    """For a test that loads a model with MLflow's own loaders (`mlflow.spark.load_model`, `mlflow.pyfunc`): they
    copy each model into new temporary folders (its download, its DFS copy) that they never remove; here those
    are made in this test's folder, removed with it."""
    folder = tmp_path / "mlflow-downloads"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    monkeypatch.setenv("MLFLOW_DFS_TMP", str(folder / "dfs"))
    return folder


@pytest.fixture(scope="session")
def spark(tmp_path_factory) -> SparkSession:
    # the session catalog's folder (made by any SQL statement on a table) outside the project's tree
    warehouse = {"spark.sql.warehouse.dir": str(tmp_path_factory.mktemp("spark-warehouse"))}
    session = get_spark("speedrun-tests", master="local[2]", extra={**TEST_SPARK_CONF, **warehouse})
    yield session
    session.stop()


def small_overrides(work_dir: Path) -> list[str]:
    """The default config on a small generated dataset under `work_dir`, with a quick classifier."""
    return [
        f"storage.work_dir={work_dir}",
        "source.generate_if_missing.rows=3000",
        "model={type: logistic_regression, max_iter: 5}",
    ]


def small_config(work_dir: Path, *overrides: str) -> Config:
    return load_config("default", [*small_overrides(work_dir), *overrides])


@pytest.fixture
def overrides_for() -> Callable[[Path], list[str]]:
    """`overrides_for(work_dir)`: the `--set` values of `small_config`, for subprocesses and the CLI."""
    return small_overrides


@pytest.fixture(scope="session")
def trained(spark, tmp_path_factory) -> tuple[Config, Evaluation]:
    """One whole pipeline run on 3,000 generated rows, shared by the tests that only read what it wrote (its
    metrics JSON also written to `<work_dir>/elsewhere/m.json`, as `--metrics-out` asks)."""
    cfg = small_config(tmp_path_factory.mktemp("trained"))
    out = Path(cfg.storage.work_dir) / "elsewhere" / "m.json"
    return cfg, run_pipeline(spark, cfg, RunOptions(reuse_silver=True, metrics_out=str(out)))


@pytest.fixture(scope="session")
def tuned(spark, tmp_path_factory) -> tuple[Config, Evaluation]:
    """`speedrun tune` of `SEARCH` (two logistic regressions, an xgboost) on the shared run's data, in this
    process: the tune tests' run, and what the standalone cluster's one-core run must reproduce."""
    cfg = small_config(tmp_path_factory.mktemp("tuned"), SEARCH)
    return cfg, run_pipeline(spark, cfg, RunOptions(tune=True))


@pytest.fixture
def make_config(tmp_path: Path) -> Callable[..., Config]:
    """`make_config(*overrides)`: `small_config` in this test's own folder."""
    return lambda *overrides: small_config(tmp_path, *overrides)
