"""score: new raw data -> predictions of the registered model, in the `<name>_predictions` Delta table.

A batch is read as the model needs it: its id and features by name, whatever else its files hold. Its rows go
through the same cleaning as training data, under the contract the model was trained with (kept in the registered
model's metadata); rows that break it are quarantined in `<name>_scoring_quarantine` with their reason. Each table
keeps one schema across batches. A batch is written as one Delta commit that replaces that batch's earlier rows
(`replaceWhere`), so scoring the same batch again never duplicates it. Its drift from the training rows is kept
in `<name>_drift`; a drift above `scoring.drift.fail` fails the step once every row is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

from pyspark.sql import functions as F

from speedrun.context import RunContext
from speedrun.edges.arrivals import arrivals, checked_batch_id, judge, log_events, pending
from speedrun.edges.drift_report import keep_drift
from speedrun.edges.raw import read_source
from speedrun.edges.registry import registered_model
from speedrun.progress import step
from speedrun.transforms.batch_drift import Drift, batch_drift, shift_error
from speedrun.transforms.checks import require_columns
from speedrun.transforms.cleaning import clean, typed_features, with_reject_reason
from speedrun.transforms.columns import REASON, ROW_KEY
from speedrun.transforms.decided_class import classifier_outputs
from speedrun.transforms.scoring import model_inputs, predictions, quarantined


def from_here(path: str) -> str:
    """A command-line path, relative to where you are (made absolute: Spark would take the JVM's folder)."""
    return path if "://" in path else str(Path(path).absolute())


@dataclass(frozen=True)
class ScoringResult:
    batch_id: str
    scored: int
    quarantined: int
    model_name: str
    model_version: str
    drift: Drift | None = None


def score(
    ctx: RunContext,
    input_path: str | None = None,
    batch_id: str | None = None,
    version: str | None = None,
    verdict: bool = True,
) -> ScoringResult:
    """Score the files at `input_path` (default: scoring.path) as batch `batch_id` (default: the path) with the
    champion (or `version`); fail on a drift above `scoring.drift.fail` once written, unless `verdict` is off
    (the scoring job's `drift` task gives it then)."""
    spark, cfg, tables = ctx.spark, ctx.cfg, ctx.tables
    with step("score") as progress:
        path = from_here(input_path) if input_path else cfg.storage.resolve(cfg.scoring.path)
        batch_id = checked_batch_id(batch_id or path)
        registered = registered_model(cfg, version)
        model, contract, name, version = registered.model, registered.contract, registered.name, registered.version
        source = cfg.source.model_copy(update={"path": path})
        reject = partial(with_reject_reason, quote=source.quote, record_format=source.format)
        raw = read_source(spark, source, path, "scoring.path")
        require_columns(raw, [*contract.features, *filter(None, [contract.id])], where=path)
        tagged = (
            model_inputs(raw, contract)
            .transform(partial(clean, columns=cfg.columns, null_values=source.null_values))
            .transform(partial(reject, contract=contract, label=None))
            .persist()
        )
        try:
            good = tagged.where(F.col(REASON).isNull()).select(*typed_features(contract), ROW_KEY)
            batch = f"batch_id = '{batch_id}'"  # safe: a checked batch id holds no quote
            rows = predictions(model.transform(good), contract, (name, version), batch_id, classifier_outputs(model)[1])
            written = tables.replace(rows, "predictions", batch)
            # evolving: a table an earlier speedrun made held every column of the files
            refused = tables.replace(quarantined(tagged, contract, batch_id), "scoring_quarantine", batch, True)
            watched = cfg.scoring.drift.enabled and registered.profile  # none kept by a speedrun before drift
            drift = batch_drift(good, written, registered.profile, cfg.scoring.drift) if watched else None
            if drift is not None:
                keep_drift(spark, tables, drift, batch_id, (name, version))
        finally:
            tagged.unpersist()
        empty = " (the batch has no rows)" if written + refused == 0 else ""
        progress.done(
            f"batch {batch_id}: {written:,} rows scored by {name} v{version} -> {tables.location('predictions')}, "
            f"{refused:,} quarantined{empty}" + (f"; {drift.line()}" if drift is not None else "")
        )
    if drift is not None and verdict:
        failed = shift_error(drift.rows, cfg.scoring.drift.fail, tables.location("drift"))
        if failed is not None:
            raise failed
    return ScoringResult(batch_id, written, refused, name, version, drift)


def score_arrived(
    ctx: RunContext, folder: str | None = None, version: str | None = None, verdict: bool = True
) -> list[ScoringResult]:
    """Score each batch folder under `folder` (default: scoring.path) whose files are new or changed since it
    was last scored, as the batch named after its folder, and log it (`edges.arrivals`); then, unless `verdict`
    is off, fail naming every batch that drifted above `scoring.drift.fail`."""
    path = from_here(folder) if folder else ctx.cfg.storage.resolve(ctx.cfg.scoring.path)
    todo = pending(ctx.spark, ctx.tables, arrivals(path))
    if not todo:
        with step("score") as progress:
            progress.done(f"no new batch in {path}: every batch folder was scored with the files it holds")
    results = []
    for arrival in todo:
        result = score(ctx, arrival.path, arrival.batch_id, version, verdict=False)
        facts = {"files": arrival.files, "scored": result.scored, "quarantined": result.quarantined}
        # logged batch by batch: a retry after a failure scores only what is not logged yet
        log_events(ctx.spark, ctx.tables, "scored", {arrival.batch_id: facts | {"model_version": result.model_version}})
        results.append(result)
    if verdict:
        failed = judge(ctx.spark, ctx.tables, [r.batch_id for r in results], ctx.cfg.scoring.drift.fail)
        if failed is not None:
            raise failed
    return results
