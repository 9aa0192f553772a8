"""`speedrun run`: the runner. It decides, before any step runs, which steps are up to date (`plan`, the one
place that decides it), then calls the others in order on one run context - ingest, prepare, split, train,
evaluate, the same functions `speedrun <step>` calls - each taking what the one before it returned.

The rule (`edges.up_to_date` reads what it needs): ingest and prepare are up to date when silver was made from the
raw files as they are now, with this config's data sections and this code; split, train and evaluate too when, on
that silver, an evaluated earlier run had the whole config and the code of this one (its model would be the same,
bit for bit). A tuning run, a run given its own run id, and `--fresh` run every step their plan does not skip.
With silver kept, the split step checks the rows per split and class that prepare recorded in silver's commit.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import SparkSession

from speedrun.config import Config
from speedrun.context import RunContext, RunOptions
from speedrun.edges.session import runs_here
from speedrun.edges.up_to_date import EarlierRun, KeptSilver, earlier_run, inputs_fingerprint, kept_silver
from speedrun.progress import step
from speedrun.steps.evaluate import Evaluation, earlier_evaluation, evaluate
from speedrun.steps.ingest import ingest
from speedrun.steps.prepare import prepare
from speedrun.steps.split import split
from speedrun.steps.train import train


@dataclass(frozen=True)
class Plan:
    """Which steps of a run are up to date, decided before any runs."""

    fingerprint: str | None  # what silver is made from (recorded in its commit); None: not known without Spark
    kept: KeptSilver | None = None  # silver is up to date: ingest and prepare are skipped, these versions used
    earlier: EarlierRun | None = None  # and this run is that one again: split, train and evaluate are skipped


def plan(ctx: RunContext) -> Plan:
    """The run's plan: every step, unless `reuse_silver` lets the up-to-date ones be skipped."""
    fingerprint = inputs_fingerprint(ctx.cfg)
    kept = kept_silver(ctx.spark, ctx.cfg, fingerprint) if ctx.options.reuse_silver else None
    if kept is None:
        return Plan(fingerprint)
    repeated = not (ctx.tuning or ctx.options.run_id is not None)  # a new search, or a run named anew
    return Plan(fingerprint, kept, earlier_run(ctx.spark, ctx.cfg, kept) if repeated else None)


def up_to_date(name: str, why: str) -> None:
    with step(name) as progress:
        progress.done(f"up to date: {why}")


def run(ctx: RunContext) -> Evaluation:
    """ingest -> prepare -> split -> train -> evaluate on `ctx`, the steps up to date skipped."""
    # before any work: a model this compute cannot train or keep fails at once
    runs_here(ctx.cfg, ctx.tuning)
    planned = plan(ctx)
    counts = None
    if planned.kept is None:
        ingest(ctx)
        fingerprint = planned.fingerprint or inputs_fingerprint(ctx.cfg)  # of a source ingest just generated
        counts = prepare(ctx, fingerprint).counts
    else:
        ctx.versions.update(planned.kept.versions)
        counts = planned.kept.counts  # as prepare counted them (None: a silver of an earlier speedrun)
        up_to_date("ingest", f"{planned.kept.describe('bronze', 'bronze_test')} holds the raw files as they are now")
        up_to_date(
            "prepare",
            f"{planned.kept.describe('silver', 'silver_test')} was cleaned from it with this config "
            "(--fresh reads the raw files again)",
        )
    if planned.earlier is not None:
        record = planned.earlier.record
        up_to_date("split", f"run {record.run_id}'s split, {planned.earlier.rows()}")
        up_to_date("train", f"{planned.earlier.describe()} (--fresh trains again)")
        evaluation = earlier_evaluation(planned.earlier, ctx.options.metrics_out)
        up_to_date("evaluate", f"run {record.run_id}'s test metrics ({evaluation.metrics_path})")
        return evaluation
    return evaluate(ctx, train(ctx, split(ctx, counts, current=True)))


def run_pipeline(spark: SparkSession, cfg: Config, options: RunOptions | None = None) -> Evaluation:
    """`run` on a context of its own, its writes in the background, waited for (and its caches freed) before it
    returns. By default the up-to-date steps are skipped (`RunOptions.reuse_silver`; `--fresh` turns it off)."""
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
