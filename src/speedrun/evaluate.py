"""evaluate: a trained run's model on its test table -> the `<name>_metrics` table and a metrics JSON file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pyspark.ml import PipelineModel
from pyspark.sql import Row, SparkSession
from pyspark.sql import functions as F

from speedrun.config import Config
from speedrun.errors import SpeedrunError
from speedrun.progress import step
from speedrun.tables import Tables
from speedrun.train import score

HEADLINE = ("areaUnderROC", "areaUnderPR", "accuracy", "precision", "recall", "f1")
METRICS_SCHEMA = (
    "run_id string, model_type string, evaluated_at timestamp, test_rows long, "
    + ", ".join(f"{name} double" for name in HEADLINE)
    + ", confusion_matrix array<array<long>>, metrics string"
)


@dataclass(frozen=True)
class Evaluation:
    report: dict[str, Any]
    metrics_path: str


def find_run(spark: SparkSession, cfg: Config, run_id: str | None) -> Row:
    """The record of `run_id`, or of the latest training run."""
    runs = Tables(cfg).read(spark, "training_runs")
    if run_id:
        found = runs.where(F.col("run_id") == run_id).collect()
        if not found:
            raise SpeedrunError(f"no training run {run_id!r} in {Tables(cfg).location('training_runs')}")
        return found[0]
    latest = runs.orderBy(F.col("finished_at").desc()).first()
    if latest is None:
        raise SpeedrunError("no training run recorded yet: run `speedrun train` first")
    return latest


def default_metrics_path(cfg: Config, run_id: str) -> str:
    return cfg.storage.resolve(f"runs/{cfg.name}/{run_id}/metrics.json")


def evaluate(spark: SparkSession, cfg: Config, run_id: str | None = None, metrics_out: str | None = None) -> Evaluation:
    tables = Tables(cfg)
    with step("evaluate") as progress:
        run = find_run(spark, cfg, run_id)
        model = PipelineModel.load(run["model_path"])
        metrics, matrix = score(cfg, model, tables.read(spark, "test", run["test_version"]))
        evaluated_at = datetime.now(timezone.utc)
        report = {
            "run_id": run["run_id"],
            "name": cfg.name,
            "model": {
                "type": run["model_type"],
                "params": json.loads(run["model_params"]),
                "path": run["model_path"],
            },
            "metrics": metrics,
            "validation_metrics": json.loads(run["validation_metrics"]),
            "confusion_matrix": {
                "labels": cfg.columns.label.classes,
                "rows_actual_columns_predicted": matrix,
            },
            "rows": {
                "train": run["train_rows"],
                "validation": run["validation_rows"],
                "test": run["test_rows"],
            },
            "tables": {name: tables.location(name) for name in ("bronze", "silver", "train", "validation", "test")},
            "inputs": {role: run[f"{role}_version"] for role in ("bronze", "silver", "train", "validation", "test")},
            "config_hash": run["config_hash"],
            "spark_version": run["spark_version"],
            "speedrun_version": run["speedrun_version"],
            "git_commit": run["git_commit"],
            "evaluated_at": evaluated_at.isoformat(),
        }
        path = metrics_out or default_metrics_path(cfg, run["run_id"])
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(report, indent=2) + "\n")
        record = (
            run["run_id"],
            run["model_type"],
            evaluated_at,
            run["test_rows"],
            *[metrics.get(name) for name in HEADLINE],
            matrix,
            json.dumps(metrics, sort_keys=True),
        )
        tables.upsert(spark.createDataFrame([record], METRICS_SCHEMA), "metrics", key="run_id")
        progress.done(f"test {', '.join(f'{k} {v:.4f}' for k, v in metrics.items())}")
    return Evaluation(report, path)
