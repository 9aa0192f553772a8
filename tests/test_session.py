"""The session factory's settings: Delta always, both jars loaded the same way, never Parquet instead."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from speedrun.cli import main
from speedrun.config import load_config
from speedrun.edges import local_session
from speedrun.edges.session import require_delta, runs_here
from speedrun.errors import SpeedrunError


def test_both_delta_artifacts_come_as_packages_of_the_installed_version(monkeypatch, tmp_path: Path) -> None:
    # GIVEN a machine whose Ivy cache has no Delta jars yet
    monkeypatch.delenv("SPEEDRUN_DELTA_JARS", raising=False)
    monkeypatch.setattr(local_session, "IVY_JARS", tmp_path)
    conf = local_session.local_conf()
    v = version("delta-spark")
    assert conf["spark.jars.packages"] == f"io.delta:delta-spark_2.13:{v},io.delta:delta-storage:{v}"
    assert "spark.jars" not in conf
    assert conf["spark.sql.extensions"] == "io.delta.sql.DeltaSparkSessionExtension"
    assert conf["spark.sql.catalog.spark_catalog"] == "org.apache.spark.sql.delta.catalog.DeltaCatalog"


def test_jars_already_resolved_are_loaded_from_the_ivy_cache(monkeypatch, tmp_path: Path) -> None:
    # GIVEN both Delta jars in the Ivy cache, fetched by an earlier session's resolver
    monkeypatch.delenv("SPEEDRUN_DELTA_JARS", raising=False)
    monkeypatch.setattr(local_session, "IVY_JARS", tmp_path)
    v = version("delta-spark")
    for artifact in ("delta-spark_2.13", "delta-storage"):
        (tmp_path / f"io.delta_{artifact}-{v}.jar").write_bytes(b"")
    # THEN they are loaded from there, with no resolution
    conf = local_session.local_conf()
    assert [Path(j).name for j in conf["spark.jars"].split(",")] == [
        f"io.delta_delta-spark_2.13-{v}.jar",
        f"io.delta_delta-storage-{v}.jar",
    ]
    assert "spark.jars.packages" not in conf


def test_a_jars_folder_gives_both_jars(monkeypatch, tmp_path: Path) -> None:
    # GIVEN a folder holding both Delta jars (what `make delta-jars` fetches)
    v = version("delta-spark")
    for artifact in ("delta-spark_2.13", "delta-storage"):
        (tmp_path / f"{artifact}-{v}.jar").write_bytes(b"")
    monkeypatch.setenv("SPEEDRUN_DELTA_JARS", str(tmp_path))
    # THEN both are loaded as jars, and neither as a package
    conf = local_session.local_conf()
    assert [Path(j).name for j in conf["spark.jars"].split(",")] == [
        f"delta-spark_2.13-{v}.jar",
        f"delta-storage-{v}.jar",
    ]
    assert "spark.jars.packages" not in conf


def test_a_jars_folder_missing_a_jar_is_named(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SPEEDRUN_DELTA_JARS", str(tmp_path))
    with pytest.raises(
        SpeedrunError, match=r"SPEEDRUN_DELTA_JARS=.* has no delta-spark_2\.13-.*\.jar: run `make delta-jars`"
    ):
        local_session.local_conf()


def test_the_test_session_writes_and_reads_real_delta_tables(spark, tmp_path: Path) -> None:
    # GIVEN the suite's session, started by the session factory, which require_delta lets through
    require_delta(spark)
    # WHEN it writes a table in Delta's format and reads it back at its first version
    spark.range(3).write.format("delta").save(str(tmp_path / "t"))
    spark.range(5).write.format("delta").mode("overwrite").save(str(tmp_path / "t"))
    # THEN the table has Delta's log and its versions
    assert (tmp_path / "t" / "_delta_log" / "00000000000000000001.json").is_file()
    assert spark.read.format("delta").option("versionAsOf", 0).load(str(tmp_path / "t")).count() == 3


def test_counting_a_delta_table_launches_no_job_for_statistics_it_does_not_have(spark, tmp_path: Path) -> None:
    # GIVEN a Delta table written and counted once by the suite's session (no file statistics: stats.collect off)
    spark.range(50).write.format("delta").save(str(tmp_path / "t"))
    table = spark.read.format("delta").load(str(tmp_path / "t"))
    assert table.count() == 50
    tracker = spark.sparkContext.statusTracker()
    before = max(tracker.getJobIdsForGroup(None), default=-1)
    # WHEN it is counted again
    assert table.count() == 50
    # THEN the count scans the files in at most 3 Spark jobs, without first trying the statistics (5)
    assert max(tracker.getJobIdsForGroup(None)) - before <= 3


@pytest.mark.e2e
def test_a_session_without_delta_is_refused_in_one_line_never_parquet_instead() -> None:
    # GIVEN a plain local Spark session, started without speedrun's factory (no Delta jars), in a process of its own
    script = (
        "from pyspark.sql import SparkSession\n"
        "from speedrun.edges.session import require_delta\n"
        "from speedrun.errors import SpeedrunError\n"
        "spark = SparkSession.builder.master('local[1]').config('spark.ui.enabled', 'false').getOrCreate()\n"
        "try:\n"
        "    require_delta(spark)\n"
        "except SpeedrunError as exc:\n"
        "    print(exc)\n"
        "spark.stop()\n"
    )
    # WHEN speedrun is asked to work in it THEN it refuses, saying how to start one with Delta
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.stdout.strip().startswith(
        "Delta Lake is not available in this Spark session: start it with `--packages"
    )
    assert done.stdout.strip().endswith("speedrun never falls back to Parquet")


def test_local_sessions_collect_no_file_statistics(monkeypatch, tmp_path: Path) -> None:
    # GIVEN the settings of a local session
    monkeypatch.setattr(local_session, "IVY_JARS", tmp_path)
    conf = local_session.local_conf()
    # THEN Delta writes no per-file column statistics, which only full scans read here
    assert conf["spark.databricks.delta.stats.collect"] == "false"


def test_the_jvm_compiles_the_large_methods_spark_generates(spark) -> None:
    # GIVEN the suite's session, started by the session factory
    runtime = spark.sparkContext._jvm.java.lang.management.ManagementFactory.getRuntimeMXBean()
    # THEN its JVM compiles methods over HotSpot's 8,000-byte limit (prepare's generated code is one)
    assert "-XX:-DontCompileHugeMethods" in list(runtime.getInputArguments())


@pytest.mark.parametrize(
    ("runtime", "types", "refused"),
    [
        ("client.5.1", ["logistic_regression", "random_forest", "gbt"], None),
        ("client.5.1", ["logistic_regression", "xgboost"], "model type xgboost cannot be trained on serverless"),
        ("17.3", ["xgboost"], None),
    ],
)
def test_serverless_compute_refuses_only_xgboost(monkeypatch, runtime: str, types: list[str], refused) -> None:
    # GIVEN a Databricks runtime (serverless: `client.`) and the model sections a run would fit
    monkeypatch.setenv("DATABRICKS_RUNTIME_VERSION", runtime)
    # WHEN the run checks the compute THEN it fails in one line exactly where xgboost would fit on serverless
    said = refusal_of([{"type": t} for t in types])
    assert said == refused or said.startswith(refused), said


def refusal_of(models: list[dict]) -> str | None:
    """What a tuning run whose search tries `models` says at its start (None: it goes on)."""
    cfg = load_config("default", ["search=" + json.dumps({"candidates": models})])
    try:
        runs_here(cfg, tuning=True)
    except SpeedrunError as exc:
        return str(exc)
    return None


@pytest.mark.parametrize(
    ("models", "refused"),
    [
        ([{"type": "random_forest", "num_trees": 50, "max_depth": 12}], None),  # 62 MB at most
        (
            [{"type": "random_forest", "num_trees": 50, "max_depth": 13}],
            "model random_forest (50 trees of depth 13) can grow to 125 MB, over serverless compute's 100 MB a "
            "model: lower max_depth or the number of trees, or run on a target with job clusters (dev, staging, prod)",
        ),
        ([{"type": "gbt", "max_iter": 400, "max_depth": 10}], "model gbt (400 trees of depth 10) can grow to 125 MB"),
        (
            [{"type": "random_forest", "num_trees": 50, "max_depth": 12}] * 20,
            "the search's 20 tree candidates can grow to 1,250 MB together, over serverless compute's 1,024 MB for "
            "one session's models",
        ),
        ([{"type": "random_forest", "num_trees": 500, "max_depth": 30}], None),  # on a job cluster
    ],
)
def test_trees_serverless_compute_could_not_keep_are_refused_before_training(monkeypatch, models, refused) -> None:
    # GIVEN serverless compute (a job cluster for the last), and the tree models a run or search would fit
    runtime = "17.3" if models[0].get("num_trees") == 500 else "client.5.1"
    monkeypatch.setenv("DATABRICKS_RUNTIME_VERSION", runtime)
    # WHEN the run checks the compute THEN trees that could outgrow what serverless keeps are refused in one line
    said = refusal_of(models)
    assert said == refused or (refused and said.startswith(refused)), said


def test_tuning_on_serverless_without_a_search_is_refused_in_one_line(spark, tmp_path, monkeypatch, capsys) -> None:
    # GIVEN serverless compute (its runtime version), where the default search's xgboost cannot train
    monkeypatch.setenv("DATABRICKS_RUNTIME_VERSION", "client.5.1")
    # WHEN `speedrun tune` runs there THEN it stops before any work, in one line saying what to do
    assert main(["tune", "--set", f"storage.work_dir={tmp_path}", "--set", "tracking.enabled=false"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("speedrun tune: error: model type xgboost cannot be trained on serverless compute")
    assert "a search: without it" in err and not (tmp_path / "warehouse").exists()


def test_the_local_heap_is_2g_unless_the_environment_says_otherwise(monkeypatch) -> None:
    # GIVEN no setting THEN the driver's heap is 2g; WHEN SPEEDRUN_DRIVER_MEMORY is set THEN it is that
    monkeypatch.delenv("SPEEDRUN_DRIVER_MEMORY", raising=False)
    assert local_session.local_conf()["spark.driver.memory"] == "2g"
    monkeypatch.setenv("SPEEDRUN_DRIVER_MEMORY", "6g")
    assert local_session.local_conf()["spark.driver.memory"] == "6g"
