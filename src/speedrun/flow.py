"""`speedrun run`: the steps called in order on one run context — ingest, prepare, split, train, evaluate — in one
Spark session, with the writes in the background and the rows each step makes in hand for the next."""

from __future__ import annotations

from pyspark.sql import SparkSession

from speedrun.config import Config
from speedrun.context import RunContext, RunOptions
from speedrun.steps.evaluate import Evaluation, evaluate
from speedrun.steps.ingest import ingest
from speedrun.steps.prepare import prepare
from speedrun.steps.split import split
from speedrun.steps.train import train, trainable_here

STEPS = (ingest, prepare, split, train)


def run(ctx: RunContext) -> Evaluation:
    """ingest -> prepare -> split -> train -> evaluate on `ctx`: the same functions `speedrun <step>` calls."""
    trainable_here(ctx)  # before any work: a model this compute cannot train fails the run at once
    for each in STEPS:
        each(ctx)
    return evaluate(ctx)


def run_pipeline(spark: SparkSession, cfg: Config, options: RunOptions | None = None) -> Evaluation:
    """`run` on a context of its own, its writes in the background, waited for (and its caches freed) before it
    returns. By default ingest and prepare are up to date when silver was made from the raw files as they are,
    with this config and code (`RunOptions.reuse_silver`; `--fresh` turns it off)."""
    with RunContext(spark, cfg, options or RunOptions(reuse_silver=True), background=True) as ctx:
        return run(ctx)


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
