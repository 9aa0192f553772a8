"""evaluate: a trained run's model on its test table -> the `<name>_metrics` table and a metrics JSON file."""

from __future__ import annotations

import json
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any

from pyspark.ml import PipelineModel
from pyspark.sql import DataFrame, SparkSession

from speedrun.background import BackgroundWrites
from speedrun.columns import SPLIT
from speedrun.config import Config
from speedrun.contract import contract_of
from speedrun.fit import predictions_of
from speedrun.metrics import classification_metrics, per_class
from speedrun.mlflow_logging import log_evaluation
from speedrun.progress import step
from speedrun.report import feature_weights, score_histogram, write_report
from speedrun.runs import METRICS_SCHEMA, find_run, metrics_record
from speedrun.split import SPLITS, read_split
from speedrun.tables import Tables
from speedrun.tracking import mlflow_run, use_experiment
from speedrun.train import Trained, load_model


@dataclass(frozen=True)
class Evaluation:
    report: dict[str, Any]
    metrics_path: str
    report_path: str
    drawn: Future | None = field(default=None, repr=False, compare=False)  # the report's page, once drawn


def run_report(cfg: Config, run: Mapping[str, Any], outcome: OutcomeOnTest, evaluated_at: datetime) -> dict[str, Any]:
    """What the metrics JSON holds (pure): the run, its model, test metrics, row counts and lineage."""
    tables, metrics, matrix, classes = Tables(cfg), outcome.metrics, outcome.matrix, outcome.classes
    written = ["bronze", "silver", *(["silver_test"] if cfg.test_source else [])]
    splits = {name: f"{tables.location('silver')} where {SPLIT} = '{name}'" for name in SPLITS}
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
        "rows": {split: run[f"{split}_rows"] for split in SPLITS},
        "tables": {role: tables.location(role) for role in written},
        "splits": splits,
        "inputs": {role: run[f"{role}_version"] for role in ("bronze", "silver", *SPLITS)},
        **{key: run[key] for key in ("config_hash", "spark_version", "speedrun_version", "git_commit")},
        "evaluated_at": evaluated_at.isoformat(),
    }


@dataclass(frozen=True)
class OutcomeOnTest:
    """What the model did on the test rows: metrics, confusion matrix, the charts' data."""

    classes: list[str]
    metrics: dict[str, float]
    matrix: list[list[int]]
    histogram: Any
    weights: Any


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
        run, model, test = run_model_and_test_rows(spark, cfg, run_id, trained)
        outcome, evaluated_at = outcome_on_test(cfg, model, test), datetime.now(timezone.utc)
        report = run_report(cfg, run, outcome, evaluated_at)
        new_run = trained is not None and trained.new_run
        evaluation = keep_evaluation(cfg, run, report, outcome, Path(metrics_out) if metrics_out else None)
        record = spark.createDataFrame(
            [metrics_record(run, outcome.metrics, outcome.matrix, evaluated_at)], METRICS_SCHEMA
        )
        keep_record = partial(Tables(cfg).upsert, record, "metrics", "run_id", run["run_id"], new_run)
        log = partial(log_to_run, cfg, run["mlflow_run_id"], outcome.metrics, evaluation)
        if writes is None:
            keep_record()
            log()
        else:
            writes.later("metrics", keep_record)
            writes.later("evaluation_log", log, lane="tracking")
        progress.done(f"test {', '.join(f'{k} {v:.4f}' for k, v in outcome.metrics.items())}")
    return evaluation


def run_model_and_test_rows(
    spark: SparkSession, cfg: Config, run_id: str | None, trained: Trained | None
) -> tuple[Mapping[str, Any], PipelineModel, DataFrame]:
    """The run's record, its model and its test rows: as just trained, or read back from the run's record."""
    if trained is not None:
        return asdict(trained.record), trained.model, trained.test_rows
    run = find_run(spark, cfg, run_id)  # its test rows were checked before it trained (`split.require_evaluable`)
    if run["mlflow_run_id"]:
        use_experiment(cfg)
    return run, load_model(run["model_path"]), read_split(spark, cfg, "test", run["test_version"])


def outcome_on_test(cfg: Config, model: PipelineModel, test: DataFrame) -> OutcomeOnTest:
    """The model's metrics on the test rows, and its score histogram and feature weights for the report."""
    classes = contract_of(test).classes
    with predictions_of(cfg, model, test) as predictions:
        metrics, matrix = classification_metrics(predictions, len(classes))
        histogram = score_histogram(predictions) if len(classes) == 2 else None
        return OutcomeOnTest(classes, metrics, matrix, histogram, feature_weights(model, predictions))


def keep_evaluation(
    cfg: Config, run: Mapping[str, Any], report: dict, outcome: OutcomeOnTest, out: Path | None
) -> Evaluation:
    """The metrics JSON (at `out`, default in the run's folder), and the report's charts drawn in a thread
    (seconds of matplotlib) while the metrics table is written."""
    folder = Path(cfg.storage.resolve(f"runs/{cfg.name}/{run['run_id']}"))
    path = out or folder / "metrics.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    drawing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="speedrun-report")
    drawn = drawing.submit(write_report, folder / "report", report, outcome.histogram, outcome.weights)
    drawing.shutdown(wait=False)
    return Evaluation(report, str(path), str(folder / "report" / "report.html"), drawn)


def log_to_run(cfg: Config, mlflow_run_id: str | None, metrics: dict[str, float], evaluation: Evaluation) -> None:
    """The test metrics, the metrics JSON and the report (once drawn) on the run's MLflow run, if tracked."""
    page = evaluation.drawn.result()
    with mlflow_run(cfg, run_id=mlflow_run_id) as tracked:
        if tracked:
            log_evaluation(metrics, Path(evaluation.metrics_path), page.parent)
