"""`speedrun run`: ingest -> prepare -> split -> train -> evaluate, in one Spark session."""

from __future__ import annotations

from pyspark.sql import SparkSession

from speedrun.config import Config
from speedrun.evaluate import Evaluation, evaluate
from speedrun.ingest import ingest
from speedrun.prepare import prepare
from speedrun.split import split
from speedrun.train import fit_and_record


def run_pipeline(spark: SparkSession, cfg: Config, metrics_out: str | None = None) -> Evaluation:
    """Each step reads exactly the version the step before it wrote (Delta time travel), so a concurrent
    write to any table cannot change this run halfway."""
    bronze = ingest(spark, cfg)
    prepared = prepare(spark, cfg, bronze.version)
    splits = split(spark, cfg, prepared.silver_version, prepared.silver_test_version)
    trained = fit_and_record(spark, cfg, split_commits=splits.commits)
    return evaluate(spark, cfg, trained.record.run_id, metrics_out, trained=trained)


def print_summary(evaluation: Evaluation) -> None:
    """The test metrics and where everything is, on stdout."""
    report = evaluation.report
    rows = report["rows"]
    print(
        f"\nrun {report['run_id']}: {report['model']['type']} on {rows['train']:,} training rows, "
        f"evaluated on {rows['test']:,} test rows"
    )
    for name, value in report["metrics"].items():
        print(f"  {name:<13} {value:.4f}")
    labels = report["confusion_matrix"]["labels"]
    print("  confusion (rows: actual, columns: predicted) " + " ".join(f"{label:>8}" for label in labels))
    for label, counts in zip(labels, report["confusion_matrix"]["rows_actual_columns_predicted"], strict=True):
        print(f"  {label:>44} " + " ".join(f"{n:>8}" for n in counts))
    print(f"tables:  {', '.join(report['tables'].values())}")
    print(f"model:   {report['model']['path']}")
    print(f"metrics: {evaluation.metrics_path}")
    print(f"report:  {evaluation.report_path}")
