"""prepare: bronze -> silver and quarantine, by the cleaning transforms of `cleaning` (strings trimmed, null tokens
made missing, numbers cast, the label normalized and made a class index), under the data contract the config
declares, or, where it leaves something open, inferred from the cleaned rows.

A row that cannot be cleaned (a malformed line, a number that is not one, a missing or unknown label) is never
dropped: it goes to the `<name>_quarantine` table with its reason, its file and its row key, and
bronze rows = silver rows + quarantined rows. Too many quarantined rows fail the run before anything is written.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from functools import partial

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from speedrun.context import RunContext
from speedrun.edges.delta_log import COUNTS, INPUTS
from speedrun.progress import step
from speedrun.transforms.cleaning import accepted, clean, rejected, to_silver, with_reject_reason
from speedrun.transforms.columns import CORRUPT
from speedrun.transforms.contract import Contract, declared_contract, infer_contract, valued, without_empty
from speedrun.transforms.splits import SPLITS, split_of
from speedrun.transforms.summary import PrepareResult, summarize


@dataclass(frozen=True)
class Side:
    """The tables of one source: the training source, or a given test file."""

    key: str  # its config section
    bronze: str
    silver: str
    quarantine: str
    min_classes: int  # a training source must hold two classes; a test file may hold one


TRAINING = Side("source", "bronze", "silver", "quarantine", min_classes=2)
GIVEN_TEST = Side("test_source", "bronze_test", "silver_test", "quarantine_test", min_classes=1)


def prepare_side(
    ctx: RunContext, side: Side, contract: Contract | None, fingerprint: str | None
) -> tuple[PrepareResult, Contract]:
    """Clean one bronze table (the rows in hand, else the table at the run's version) into its silver and
    quarantine tables, under `contract` (a given test file's: the training source's), else the config's when it
    declares it whole, else one inferred from the rows. Nothing is cached: the rows are cleaned as read in each
    pass (the contract's, if inferred; the counts'; silver's write; quarantine's, if any row is quarantined),
    and the steps after read silver's Delta table."""
    cfg, label = ctx.cfg, ctx.cfg.columns.label.column
    source = getattr(cfg, side.key)
    cleaned = ctx.read(side.bronze).transform(partial(clean, columns=cfg.columns, null_values=source.null_values))
    declared = None if contract else declared_contract(cleaned, cfg.columns)
    contract = contract or declared or infer_contract(readable(cleaned), cfg.columns)
    tagged = with_reject_reason(cleaned, contract, label, source.quote, source.format)
    split = split_of(cfg.split, cfg.test_source is not None) if side is TRAINING else None
    max_quarantined = cfg.prepare.max_quarantined_fraction
    counted = valued(cleaned, declared) if declared else None
    result = summarize(tagged, label, max_quarantined, side.min_classes, split, counted)
    contract = without_empty(contract, result.values) if declared else contract
    silver = accepted(tagged).transform(partial(to_silver, contract=contract, label=label, split=split))
    # what `run` made silver from, and its rows per split and class index: a rerun that keeps it need not count
    made_from = {INPUTS: fingerprint, COUNTS: indexed(result.by_split, contract)} if fingerprint else {}
    lineage = lambda: {side.bronze: ctx.version(side.bronze), **made_from}  # noqa: E731 - once bronze is written
    # no row quarantined (counted above): an empty table, without another pass over the rows to find none
    quarantined = rejected(tagged) if result.quarantined else tagged.limit(0)
    ctx.write_all({side.silver: silver, side.quarantine: quarantined}, lineage)
    return result, contract


def indexed(by_split: dict[str, Counter], contract: Contract) -> dict[str, dict[str, int]]:
    """Rows per split and class value -> per split and class index (as JSON keys)."""
    return {name: {str(contract.classes.index(v)): n for v, n in c.items()} for name, c in by_split.items()}


def readable(cleaned: DataFrame) -> DataFrame:
    """The cleaned rows that are not malformed lines."""
    return cleaned.where(F.col(CORRUPT).isNull()) if CORRUPT in cleaned.columns else cleaned


def prepare(ctx: RunContext, fingerprint: str | None = None) -> PrepareResult:
    """Clean bronze (at the run's version: the one ingest wrote, else the latest) into silver and quarantine; a
    given test source likewise into silver_test, under the contract inferred from the training source. Its
    result holds silver's rows per split and class index (`counts`), for the split step to check without
    counting again; `fingerprint` (what the raw files and the config were, `edges.up_to_date`) is recorded in
    silver's commit."""
    with step("prepare") as progress:
        result, contract = prepare_side(ctx, TRAINING, None, fingerprint)
        counted = {name: result.by_split.get(name, Counter()) for name in SPLITS}
        outcome = f"{result.accepted:,} rows -> {ctx.tables.location('silver')}, {result.quarantined:,} quarantined"
        if ctx.cfg.test_source:
            test, _ = prepare_side(ctx, GIVEN_TEST, contract, fingerprint)
            counted["test"] = test.by_split.get("test", Counter())
            outcome += f"; test {test.accepted:,} rows, {test.quarantined:,} quarantined"
        counts = {name: Counter({int(k): n for k, n in c.items()}) for name, c in indexed(counted, contract).items()}
        left_out = f" ({', '.join(contract.empty)} left out: no values)" if contract.empty else ""
        progress.done(
            f"{outcome}; {len(contract.numeric)} numeric, {len(contract.categorical)} categorical "
            f"features{left_out}, classes {', '.join(contract.classes)}"
        )
    return replace(result, counts=counts)
