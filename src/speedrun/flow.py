"""`speedrun run`: ingest -> prepare -> split -> train -> evaluate, in one Spark session."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession

from speedrun.background import BackgroundWrites
from speedrun.config import Config
from speedrun.evaluate import Evaluation, evaluate
from speedrun.files import data_files
from speedrun.ingest import bronze_frames
from speedrun.prepare import Bronze, prepare_and_keep
from speedrun.progress import step
from speedrun.split import SPLITS, checked_split, describe, rows_of, split_versions
from speedrun.split_rows import SplitLineage, SplitRows, read_split_rows
from speedrun.tables import Tables
from speedrun.train import fit_and_record
from speedrun.tuning import tuner
from speedrun.unchanged import KeptSilver, inputs_fingerprint, kept_silver


def run_pipeline(
    spark: SparkSession,
    cfg: Config,
    metrics_out: str | None = None,
    run_id: str | None = None,
    tune: bool = False,
    budget: float | None = None,
    fresh: bool = False,
) -> Evaluation:
    """ingest -> prepare -> split -> train -> evaluate, in one process, on the rows in hand: the rows ingest
    reads are cleaned by prepare as they are written to bronze (or, for large files, from bronze once written:
    `bronze_to_clean`), and the rows prepare writes to silver stay cached
    for split, train and evaluate (the very rows of silver's commit, not read back). The Delta writes of bronze
    and silver run in the background while the model is fitted; the run record waits for them and records their
    versions, so a failed write fails the run before anything is recorded or registered. With `tune` (or a
    config with a `search:` section) the search's best candidate on validation becomes the run's model.
    When the raw files, the data steps' config and speedrun's code are as at the run that made the latest
    silver, ingest and prepare are up to date and the run trains on that silver (`unchanged`); `fresh` redoes them."""
    fingerprint = inputs_fingerprint(cfg)
    kept = None if fresh else kept_silver(spark, cfg, fingerprint)
    with BackgroundWrites(Tables(cfg)) as writes, rows_to_train(spark, cfg, writes, kept, fingerprint) as inputs:
        choose_model = tuner(budget) if tune or cfg.search else None
        trained = fit_and_record(spark, cfg, run_id, inputs=inputs, writes=writes, choose_model=choose_model)
        return evaluate(spark, cfg, trained.record.run_id, metrics_out, trained=trained, writes=writes)


@contextmanager
def rows_to_train(
    spark: SparkSession, cfg: Config, writes: BackgroundWrites, kept: KeptSilver | None, fingerprint: str | None
) -> Iterator[SplitRows]:
    """The split rows a run trains on: the kept silver's, read back, or those ingest and prepare make now."""
    if kept is not None:
        cached: list[DataFrame] = []
        try:
            yield kept_rows(spark, cfg, kept, cached)
        finally:
            for rows in cached:
                rows.unpersist()
        return
    with step("ingest") as progress:
        frames = bronze_frames(spark, cfg)
        for role, df in frames.items():
            writes.submit(role, df)
        progress.done(f"{', '.join(frames)} being written in the background")
    fingerprint = fingerprint or inputs_fingerprint(cfg)  # a file ingest has just generated
    bronze = {role: bronze_to_clean(cfg, role, df, writes, fingerprint) for role, df in frames.items()}
    prepared = prepare_and_keep(spark, cfg, bronze["bronze"], bronze.get("bronze_test"), writes, wait_for_writes=False)
    try:
        with step("split") as progress:
            result = checked_split(cfg, prepared.silver, prepared.silver_test)
            progress.done(describe(result, cfg.test_source is not None))
        rows = {name: rows_of(prepared.silver, name, prepared.silver_test) for name in SPLITS}
        yield SplitRows(rows, result, partial(lineage_of, writes, cfg))
    finally:
        prepared.release()


def kept_rows(spark: SparkSession, cfg: Config, kept: KeptSilver, cached: list[DataFrame]) -> SplitRows:
    """The kept silver's split rows, at the kept versions, cached (in `cached`, for the caller to release) as the
    rows prepare makes are, with the steps that made them reported as up to date."""
    with step("ingest") as progress:
        progress.done(f"up to date: {kept.describe('bronze', 'bronze_test')} holds the raw files as they are now")
    with step("prepare") as progress:
        progress.done(
            f"up to date: {kept.describe('silver', 'silver_test')} was cleaned from it with this config "
            "(--fresh reads the raw files again)"
        )
    with step("split") as progress:
        inputs = read_split_rows(spark, cfg, kept.versions, lambda rows: cached.append(rows.persist()) or rows)
        progress.done(describe(inputs.split, cfg.test_source is not None))
    return inputs


IN_HAND_BYTES = 32 * 2**20  # raw files up to this size are cleaned as they are read; larger ones from bronze


def bronze_to_clean(
    cfg: Config, role: str, rows: DataFrame, writes: BackgroundWrites, fingerprint: str | None = None
) -> Bronze:
    """What prepare cleans: small raw files as read, while bronze is written (the overlap saves a fresh JVM
    several seconds); large ones from bronze once written, at its version (parsing a large CSV again costs more
    than reading its Parquet files)."""
    source = cfg.source if role == "bronze" else cfg.test_source
    files = data_files(cfg.storage.resolve(source.path))
    if files is not None and sum(Path(f).stat().st_size for f in files) <= IN_HAND_BYTES:
        return Bronze(rows=rows, inputs=fingerprint)
    return Bronze(writes.commit(role).version, inputs=fingerprint)


def lineage_of(writes: BackgroundWrites, cfg: Config) -> SplitLineage:
    """The versions the run's writes made (waiting for them)."""
    silver = writes.commit("silver").version
    silver_test = writes.commit("silver_test").version if cfg.test_source is not None else None
    return SplitLineage(split_versions(silver, silver_test), silver, writes.commit("bronze").version)


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
