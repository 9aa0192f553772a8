"""evaluate: a trained run's model on its test table -> the `<name>_metrics` table and a metrics JSON file."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any

from pyspark.ml import PipelineModel
from pyspark.sql import DataFrame, Row

from speedrun.config import Config
from speedrun.context import RunContext
from speedrun.edges.evaluated import record_evaluated
from speedrun.edges.kept_scales import KEPT_SCALES
from speedrun.edges.logged_model import load_model
from speedrun.edges.mlflow_logging import log_evaluation
from speedrun.edges.registry import mark_candidate
from speedrun.edges.report import write_report
from speedrun.edges.runs import METRICS_SCHEMA, Trained, find_run, metrics_record, recorded_threshold
from speedrun.edges.tables import Tables, read_split
from speedrun.edges.tracking import mlflow_run, use_experiment
from speedrun.edges.up_to_date import EarlierRun
from speedrun.progress import say, step
from speedrun.transforms.columns import SPLIT
from speedrun.transforms.decision import no_positive_predicted
from speedrun.transforms.metrics import per_class
from speedrun.transforms.outcome import OutcomeOnTest, outcome_on_test
from speedrun.transforms.splits import SPLITS


@dataclass(frozen=True)
class Evaluation:
    report: dict[str, Any]
    metrics_path: str
    report_path: str


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


def evaluate(ctx: RunContext, trained: Trained | None = None) -> Evaluation:
    """Score the run's test rows (those this run holds, else the test table at the version the run recorded);
    write metrics, JSON, report and MLflow. The run is `trained` (train's result in this context), else the one
    `--run-id` names, by default the latest. Inside `run`, the metrics record, the report's charts and the MLflow
    logging go on in the background."""
    cfg = ctx.cfg
    with step("evaluate") as progress:
        run, model, test = run_model_and_test_rows(ctx, trained)
        threshold = recorded_threshold(run)
        outcome = outcome_on_test(model, test, threshold, KEPT_SCALES.of(test))
        evaluated_at = datetime.now(timezone.utc)
        report = run_report(ctx.tables, run, outcome, evaluated_at)
        folder = Path(cfg.storage.resolve(f"runs/{cfg.name}/{run['run_id']}"))
        out = ctx.options.metrics_out
        metrics_path = write_metrics(report, folder, Path(out) if out else None)
        record = ctx.spark.createDataFrame(
            [metrics_record(run, outcome.metrics, outcome.matrix, evaluated_at)], METRICS_SCHEMA
        )
        new_run = trained is not None and trained.new_run
        ctx.later("metrics", partial(record_metrics, ctx, record, run, new_run))
        ctx.later("report", partial(draw_report, folder / "report", report, outcome))
        drawn = partial(ctx.writes.result, "report")
        log = partial(log_to_run, cfg, run["mlflow_run_id"], outcome.metrics, folder / "metrics.json", drawn)
        ctx.later("evaluation_log", log, lane="tracking")
        ctx.later("candidate", partial(mark_evaluated, ctx, run, trained), lane="tracking")
        at = f" (class metrics at threshold {threshold:.4f})" if threshold is not None else ""
        progress.done(f"test {', '.join(f'{k} {v:.4f}' for k, v in outcome.metrics.items())}{at}")
        if none_positive := no_positive_predicted(outcome.matrix, threshold):
            say(f"evaluate  {none_positive}")
    return Evaluation(report, str(metrics_path), str(folder / "report" / "report.html"))


def draw_report(folder: Path, report: dict[str, Any], outcome: OutcomeOnTest) -> Path:
    """The report's page and charts, with the model's feature weights (made now: after the metrics are out)."""
    return write_report(folder, report, outcome.histogram, outcome.weights())


def record_metrics(ctx: RunContext, record: DataFrame, run: Mapping[str, Any], new_run: bool) -> None:
    """The run's row in `<name>_metrics`; then the run is kept as evaluated, for `run`'s up-to-date check."""
    ctx.tables.upsert(record, "metrics", "run_id", run["run_id"], new_run)
    record_evaluated(ctx.spark, ctx.tables, run.asDict() if isinstance(run, Row) else run)


def mark_evaluated(ctx: RunContext, run: Mapping[str, Any], trained: Trained | None) -> None:
    """Once the metrics record is written, point `candidate` at the run's registered version: registered by train
    in this context's tracking lane (its kept record), or recorded in `training_runs`."""
    ctx.writes.result("metrics")
    if trained is not None and "training_runs" in ctx.writes.pending:
        kept = ctx.writes.result("training_runs")
        name, version = kept.registered_model, kept.model_version
    else:
        name, version = run["registered_model"], run["model_version"]
    mark_candidate(ctx.cfg, name, version)


def earlier_evaluation(earlier: EarlierRun, out: str | None) -> Evaluation:
    """The evaluation an up-to-date run repeats: the earlier run's metrics file (copied to `out` if asked)."""
    text = earlier.metrics_path.read_text()
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text)
    report_page = earlier.metrics_path.parent / "report" / "report.html"
    return Evaluation(json.loads(text), out or str(earlier.metrics_path), str(report_page))


def run_model_and_test_rows(
    ctx: RunContext, trained: Trained | None
) -> tuple[Mapping[str, Any], PipelineModel, DataFrame]:
    """The run's record, its model and its test rows: as train returned them in this context, or read back."""
    asked = ctx.options.run_id
    if trained is not None and asked in (None, trained.record.run_id):
        return asdict(trained.record), trained.model, ctx.split_rows()["test"]
    run = find_run(ctx.spark, ctx.cfg, asked)  # its test rows were checked before it trained (`require_evaluable`)
    if run["mlflow_run_id"]:
        use_experiment(ctx.cfg)
    return run, load_model(run["model_path"]), read_split(ctx.spark, ctx.cfg, "test", run["test_version"])


def write_metrics(report: dict, folder: Path, out: Path | None) -> Path:
    """The metrics JSON in the run's folder (where a later run finds it: an up-to-date run repeats it), and at
    `out` too when asked; the path the user asked for."""
    text = json.dumps(report, indent=2) + "\n"
    for path in (folder / "metrics.json", *([out] if out else [])):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return out or folder / "metrics.json"


def log_to_run(
    cfg: Config, mlflow_run_id: str | None, metrics: dict[str, float], metrics_json: Path, drawn: Callable[[], Path]
) -> None:
    """The test metrics, the metrics JSON and the report (once `drawn`) on the run's MLflow run, if tracked."""
    page = drawn()
    with mlflow_run(cfg, run_id=mlflow_run_id) as tracked:
        if tracked:
            log_evaluation(metrics, metrics_json, page.parent)
