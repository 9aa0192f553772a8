"""evaluate: a trained run's model on its test table -> the `<name>_metrics` table and a metrics JSON file."""

from __future__ import annotations

import json
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession

from speedrun.background import BackgroundWrites
from speedrun.config import Config
from speedrun.contract import contract_of
from speedrun.errors import SpeedrunError
from speedrun.fit import predictions_of
from speedrun.metrics import classification_metrics, per_class
from speedrun.mlflow_logging import log_evaluation
from speedrun.progress import step
from speedrun.report import feature_weights, score_histogram, write_report
from speedrun.runs import METRICS_SCHEMA, find_run, metrics_record
from speedrun.split import read_split
from speedrun.tables import Tables
from speedrun.tracking import mlflow_run, use_experiment
from speedrun.train import Trained, load_model


@dataclass(frozen=True)
class Evaluation:
    report: dict[str, Any]
    metrics_path: str
    report_path: str


def run_report(
    cfg: Config, run: Mapping[str, Any], metrics: dict[str, float], matrix: list[list[int]], classes: list[str]
) -> dict[str, Any]:
    """What the metrics JSON holds: the run, its model, test metrics, row counts and lineage."""
    tables = Tables(cfg)
    roles = ("bronze", "silver", "train", "validation", "test")
    written = ["bronze", "silver", *(["silver_test"] if cfg.test_source else [])]
    splits = {name: f"{tables.location('silver')} where _split = '{name}'" for name in ("train", "validation", "test")}
    if cfg.test_source:
        splits["test"] = tables.location("silver_test")
    return {
        "run_id": run["run_id"],
        "name": cfg.name,
        "model": {"type": run["model_type"], "params": json.loads(run["model_params"]), "path": run["model_path"]},
        "metrics": metrics,
        "validation_metrics": json.loads(run["validation_metrics"]),
        "confusion_matrix": {"labels": classes, "rows_actual_columns_predicted": matrix},
        "per_class": dict(zip(classes, per_class(matrix), strict=True)),
        "rows": {split: run[f"{split}_rows"] for split in ("train", "validation", "test")},
        "tables": {role: tables.location(role) for role in written},
        "splits": splits,
        "inputs": {role: run[f"{role}_version"] for role in roles},
        **{key: run[key] for key in ("config_hash", "spark_version", "speedrun_version", "git_commit")},
        "evaluated_at": datetime.now(timezone.utc).isoformat(),
    }


def evaluate(
    spark: SparkSession,
    cfg: Config,
    run_id: str | None = None,
    metrics_out: str | None = None,
    trained: Trained | None = None,
    writes: BackgroundWrites | None = None,
) -> Evaluation:
    """Score the run's test table (at the version the run recorded); write metrics, JSON, report and MLflow.
    The run is `trained` (just fitted, in this process), or read back: `run_id`, default the latest. With
    `writes` (in `run`), the metrics record and the MLflow logging are left to run in the background."""
    with step("evaluate") as progress:
        run: Mapping[str, Any] = asdict(trained.record) if trained else find_run(spark, cfg, run_id)
        if not run["test_rows"]:
            raise SpeedrunError(f"the test table of run {run['run_id']} is empty: raise split.test")
        if trained is None and run["mlflow_run_id"]:
            use_experiment(cfg)
        model = trained.model if trained else load_model(run["model_path"])
        test = trained.test_rows if trained else read_split(spark, cfg, "test", run["test_version"])
        classes = contract_of(test).classes
        with predictions_of(cfg, model, test) as predictions:
            metrics, matrix = classification_metrics(predictions, len(classes))
            histogram = score_histogram(predictions) if len(classes) == 2 else None
            weights = feature_weights(model, predictions)
        report = run_report(cfg, run, metrics, matrix, classes)
        folder = Path(cfg.storage.resolve(f"runs/{cfg.name}/{run['run_id']}"))
        path = Path(metrics_out) if metrics_out else folder / "metrics.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2) + "\n")
        # the report's charts are drawn (seconds of matplotlib) while the metrics table is written
        drawing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="speedrun-report")
        drawn = drawing.submit(write_report, folder / "report", report, histogram, weights)
        drawing.shutdown(wait=False)
        record = spark.createDataFrame(
            [metrics_record(run, metrics, matrix, datetime.fromisoformat(report["evaluated_at"]))], METRICS_SCHEMA
        )
        new = trained is not None and trained.new_run
        keep = partial(Tables(cfg).upsert, record, "metrics", "run_id", run["run_id"], new)
        log = partial(log_to_run, cfg, run["mlflow_run_id"], metrics, path, drawn)
        if writes is None:
            keep()
            log()
        else:
            writes.later("metrics", keep)
            writes.later("evaluation_log", log, lane="tracking")
        progress.done(f"test {', '.join(f'{k} {v:.4f}' for k, v in metrics.items())}")
    return Evaluation(report, str(path), str(folder / "report" / "report.html"))


def log_to_run(cfg: Config, mlflow_run_id: str | None, metrics: dict[str, float], path: Path, drawn: Future) -> None:
    """The test metrics, the metrics JSON and the report (once drawn) on the run's MLflow run, if tracked."""
    page = drawn.result()
    with mlflow_run(cfg, run_id=mlflow_run_id) as tracked:
        if tracked:
            log_evaluation(metrics, path, page.parent)
