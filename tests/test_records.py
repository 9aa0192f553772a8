"""The run record is built by a pure function from what the run knows, and fits the runs table's schema, which is
derived from the record's own fields."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timezone

from speedrun.context import RunOptions
from speedrun.edges.runs import RUNS_SCHEMA, TrainingRun
from speedrun.steps.train import made_with, training_record

TIMES = (datetime(2026, 11, 28, 4, 0, tzinfo=timezone.utc), datetime(2026, 11, 28, 4, 1, tzinfo=timezone.utc))
LINEAGE = {"train": 3, "validation": 3, "test": 3, "silver": 3, "bronze": 1}
ROWS = {"train": 700, "validation": 150, "test": 150}
MADE_WITH = {"speedrun_version": "1.2.3", "spark_version": "4.0.1", "git_commit": "abc", "target": None}


def record(cfg, mlflow_run_id: str | None) -> TrainingRun:
    return training_record(cfg, "r1", TIMES, LINEAGE, ROWS, {"areaUnderROC": 0.9}, mlflow_run_id, MADE_WITH)


def test_the_record_names_every_version_and_count_and_where_the_model_is(make_config) -> None:
    # GIVEN a run's config, lineage and row counts
    cfg = make_config()
    # WHEN its record is built, tracked by MLflow and not
    tracked, untracked = record(cfg, "m42"), record(cfg, None)
    # THEN each split's version and rows are there, and the model is in MLflow or in the work folder
    assert (tracked.train_version, tracked.test_version, tracked.bronze_version) == (3, 3, 1)
    assert (tracked.train_rows, tracked.validation_rows, tracked.test_rows) == (700, 150, 150)
    assert tracked.model_path == "runs:/m42/model" and tracked.mlflow_run_id == "m42"
    assert untracked.model_path == cfg.storage.resolve(f"models/{cfg.name}/r1") and untracked.mlflow_run_id is None
    assert (tracked.started_at, tracked.finished_at, tracked.spark_version) == (*TIMES, "4.0.1")
    assert tracked.config_hash == cfg.digest() and tracked.validation_metrics == '{"areaUnderROC": 0.9}'


def test_the_runs_schema_is_the_records_fields_optional_ones_nullable(spark, make_config) -> None:
    # GIVEN the runs schema, derived from TrainingRun
    fields = {f.name: f for f in RUNS_SCHEMA.fields}
    # THEN only the optional fields may be null
    assert not fields["run_id"].nullable and not fields["train_rows"].nullable
    assert fields["bronze_version"].nullable and fields["model_version"].nullable
    # AND a record becomes a row of it as it is (createDataFrame checks each value's type)
    row = spark.createDataFrame([tuple(asdict(record(make_config(), None)).values())], RUNS_SCHEMA).first()
    assert (row["run_id"], row["train_rows"], row["target"]) == ("r1", 700, None)


def test_the_target_and_commit_come_from_the_task_arguments_else_the_environment(spark, monkeypatch) -> None:
    # GIVEN a job cluster's environment (serverless compute has none; its tasks pass arguments)
    monkeypatch.setenv("SPEEDRUN_TARGET", "prod")
    monkeypatch.setenv("SPEEDRUN_GIT_COMMIT", "c0ffee")
    # WHEN a run is made with and without --bundle-target and --git-commit
    given = made_with(spark, RunOptions(target="serverless", git_commit="abc123"))
    default = made_with(spark, RunOptions())
    # THEN the arguments win, and the environment is the default
    assert (given["target"], given["git_commit"]) == ("serverless", "abc123")
    assert (default["target"], default["git_commit"]) == ("prod", "c0ffee")
