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
from pyspark.sql import DataFrame

from speedrun.config import Config
from speedrun.context import RunContext
from speedrun.edges.mlflow_logging import load_model, log_evaluation
from speedrun.edges.report import feature_weights, histogram_of, write_report
from speedrun.edges.runs import METRICS_SCHEMA, find_run, metrics_record, recorded_threshold
from speedrun.edges.tables import Tables, read_split
from speedrun.edges.tracking import mlflow_run, use_experiment
from speedrun.edges.up_to_date import EarlierRun
from speedrun.progress import step
from speedrun.transforms.columns import SPLIT
from speedrun.transforms.contract import contract_of
from speedrun.transforms.metrics import metrics_of, outcome_counts, per_class
from speedrun.transforms.splits import SPLITS


@dataclass(frozen=True)
class Evaluation:
    report: dict[str, Any]
    metrics_path: str
    report_path: str
    drawn: Future | None = field(default=None, repr=False, compare=False)  # the report's page, once drawn


def run_report(
    tables: Tables, run: Mapping[str, Any], outcome: OutcomeOnTest, evaluated_at: datetime
) -> dict[str, Any]:
    """What the metrics JSON holds (pure): the run, its model, test metrics, row counts and lineage."""
    cfg, metrics, matrix, classes = tables.cfg, outcome.metrics, outcome.matrix, outcome.classes
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
        "threshold": recorded_threshold(run),  # the class metrics' (None: the classifier's own prediction)
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


def evaluate(ctx: RunContext) -> Evaluation:
    """Score the run's test rows (those this run holds, else the test table at the version the run recorded);
    write metrics, JSON, report and MLflow. The run is the one train just fitted in this context, else the one
    `--run-id` names, by default the latest. Inside `run`, the metrics record and the MLflow logging go on in the
    background."""
    cfg = ctx.cfg
    with step("evaluate") as progress:
        if ctx.earlier is not None:
            evaluation = earlier_evaluation(ctx.earlier, ctx.options.metrics_out)
            progress.done(f"up to date: run {ctx.earlier.record.run_id}'s test metrics ({evaluation.metrics_path})")
            return evaluation
        run, model, test = run_model_and_test_rows(ctx)
        threshold = recorded_threshold(run)
        outcome = outcome_on_test(model, test, threshold)
        evaluated_at = datetime.now(timezone.utc)
        report = run_report(ctx.tables, run, outcome, evaluated_at)
        out = ctx.options.metrics_out
        evaluation = keep_evaluation(cfg, run, report, outcome, Path(out) if out else None)
        record = ctx.spark.createDataFrame(
            [metrics_record(run, outcome.metrics, outcome.matrix, evaluated_at)], METRICS_SCHEMA
        )
        new_run = ctx.trained is not None and ctx.trained.new_run
        ctx.later("metrics", partial(ctx.tables.upsert, record, "metrics", "run_id", run["run_id"], new_run))
        log = partial(log_to_run, cfg, run["mlflow_run_id"], outcome.metrics, evaluation)
        ctx.later("evaluation_log", log, lane="tracking")
        at = f" (class metrics at threshold {threshold:.4f})" if threshold is not None else ""
        progress.done(f"test {', '.join(f'{k} {v:.4f}' for k, v in outcome.metrics.items())}{at}")
    return evaluation


def earlier_evaluation(earlier: EarlierRun, out: str | None) -> Evaluation:
    """The evaluation an up-to-date run repeats: the earlier run's metrics file (copied to `out` if asked)."""
    text = earlier.metrics_path.read_text()
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text)
    report_page = earlier.metrics_path.parent / "report" / "report.html"
    return Evaluation(json.loads(text), out or str(earlier.metrics_path), str(report_page))


def run_model_and_test_rows(ctx: RunContext) -> tuple[Mapping[str, Any], PipelineModel, DataFrame]:
    """The run's record, its model and its test rows: as train left them in this context, or read back."""
    asked = ctx.options.run_id
    if ctx.trained is not None and asked in (None, ctx.trained.record.run_id):
        return asdict(ctx.trained.record), ctx.trained.model, ctx.split_rows()["test"]
    run = find_run(ctx.spark, ctx.cfg, asked)  # its test rows were checked before it trained (`require_evaluable`)
    if run["mlflow_run_id"]:
        use_experiment(ctx.cfg)
    return run, load_model(run["model_path"]), read_split(ctx.spark, ctx.cfg, "test", run["test_version"])


def outcome_on_test(model: PipelineModel, test: DataFrame, threshold: float | None = None) -> OutcomeOnTest:
    """The model's metrics on the test rows (the class metrics at the run's `threshold`), its score histogram
    and feature weights for the report. The metrics come from whole-number counts, the same in any row order:
    the rows are scored as they are read, without a shuffle into the fixed layout or a cache, in one Spark job
    (and one more for a linear model's feature scales)."""
    classes = contract_of(test).classes
    predictions = model.transform(test)
    counts = outcome_counts(predictions, len(classes) == 2)
    metrics, matrix = metrics_of(counts, len(classes), threshold)
    histogram = histogram_of(counts) if len(classes) == 2 else None
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
