"""`speedrun run`: ingest -> prepare -> split -> train -> evaluate, in one Spark session."""

from __future__ import annotations

from pyspark.sql import SparkSession

from speedrun.config import Config
from speedrun.evaluate import Evaluation, evaluate
from speedrun.ingest import ingest
from speedrun.prepare import prepare_and_keep
from speedrun.progress import step
from speedrun.split import SPLITS, checked_split, describe, rows_of
from speedrun.train import SplitRows, fit_and_record


def run_pipeline(spark: SparkSession, cfg: Config, metrics_out: str | None = None) -> Evaluation:
    """ingest -> prepare -> split -> train -> evaluate. Each step works on exactly what the step before it
    wrote: prepare reads bronze at the version ingest committed, and the rows prepare wrote to silver stay
    cached for split, train and evaluate (the same rows as silver's version, not read back), so a concurrent
    write to any table cannot change this run halfway."""
    bronze = ingest(spark, cfg)
    prepared = prepare_and_keep(spark, cfg, bronze.version)
    try:
        summary = prepared.result
        with step("split") as progress:
            result = checked_split(
                cfg, prepared.silver, prepared.silver_test, summary.silver_version, summary.silver_test_version
            )
            progress.done(describe(result, cfg.test_source is not None))
        rows = {name: rows_of(prepared.silver, name, prepared.silver_test) for name in SPLITS}
        inputs = SplitRows(rows, result, summary.silver_version, bronze.version)
        trained = fit_and_record(spark, cfg, inputs=inputs)
        return evaluate(spark, cfg, trained.record.run_id, metrics_out, trained=trained)
    finally:
        prepared.release()


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
    print(f"tables:  {', '.join(dict.fromkeys(t.split(' (')[0] for t in report['tables'].values()))}")
    print(f"model:   {report['model']['path']}")
    print(f"metrics: {evaluation.metrics_path}")
    print(f"report:  {evaluation.report_path}")
