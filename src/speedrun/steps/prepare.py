"""prepare: bronze -> silver and quarantine, by the cleaning transforms of `cleaning` (strings trimmed, null tokens
made missing, numbers cast, the label normalized and made a class index), under the data contract the config
declares, or, where it leaves something open, inferred from the cleaned rows.

A row that cannot be cleaned (a malformed line, a number that is not one, a missing or unknown label) is never
dropped: it goes to the `<name>_quarantine` table with its reason, its file and its row key, and
bronze rows = silver rows + quarantined rows. Too many quarantined rows fail the run before anything is written.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import partial

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from speedrun.context import RunContext
from speedrun.edges.delta_log import INPUTS
from speedrun.errors import SpeedrunError
from speedrun.progress import step
from speedrun.transforms.cleaning import accepted, clean, rejected, to_silver, with_reject_reason
from speedrun.transforms.columns import CORRUPT, REASON, SPLIT, column
from speedrun.transforms.contract import Contract, declared_contract, infer_contract, valued, without_empty
from speedrun.transforms.splits import SPLITS, split_of


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


@dataclass(frozen=True)
class PrepareResult:
    accepted: int
    quarantined: int
    reasons: dict[str, int]
    by_split: dict[str, Counter] = field(default_factory=dict)  # accepted rows per split and label value
    values: dict[str, int] = field(default_factory=dict)  # accepted rows with a value, per feature counted


def summarize(
    tagged: DataFrame,
    label: str,
    max_quarantined: float = 1.0,
    min_classes: int = 2,
    split: Column | None = None,
    valued: dict[str, Column] | None = None,
) -> PrepareResult:
    """One pass: rows accepted (by class, and by split when `split` gives each row's; with a value, per feature
    of `valued`), rows quarantined (by reason); errors when too little is left to learn."""
    valued = valued or {}
    groups = tagged.groupBy(REASON, column(label), (split if split is not None else F.lit("test")).alias(SPLIT))
    counts = [
        F.count(F.lit(1)).alias("count"),
        *[F.count(v).alias(f"_values_{i}") for i, v in enumerate(valued.values())],
    ]
    accepted, reasons, by_split, values = Counter(), Counter(), {}, Counter()
    for row in groups.agg(*counts).collect():
        if row[REASON] is None:
            accepted[row[label]] += row["count"]
            by_split.setdefault(row[SPLIT], Counter())[row[label]] += row["count"]
            values.update({name: row[f"_values_{i}"] for i, name in enumerate(valued)})
        else:
            reasons[row[REASON]] += row["count"]
    total, quarantined = sum(accepted.values()) + sum(reasons.values()), sum(reasons.values())
    top = "; ".join(f"{reason} ({n:,} rows)" for reason, n in reasons.most_common(3))
    if not accepted:
        raise SpeedrunError(f"no rows left after cleaning: {top or 'the input is empty'}")
    if len(accepted) < min_classes:
        raise SpeedrunError(
            f"label column {label} has a single class ({next(iter(accepted))!r}) after cleaning; "
            "a classifier needs at least two"
        )
    if quarantined > max_quarantined * total:
        raise SpeedrunError(
            f"{quarantined / total:.1%} of rows failed cleaning, more than "
            f"prepare.max_quarantined_fraction = {max_quarantined:g}: {top}"
        )
    return PrepareResult(sum(accepted.values()), quarantined, dict(reasons.most_common()), by_split, dict(values))


def prepare_side(ctx: RunContext, side: Side, contract: Contract | None) -> tuple[PrepareResult, Contract]:
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
    fingerprint = {INPUTS: ctx.fingerprint} if ctx.fingerprint else {}
    lineage = lambda: {side.bronze: ctx.version(side.bronze), **fingerprint}  # noqa: E731 - once bronze is written
    # no row quarantined (counted above): an empty table, without another pass over the rows to find none
    quarantined = rejected(tagged) if result.quarantined else tagged.limit(0)
    ctx.write_all({side.silver: silver, side.quarantine: quarantined}, lineage)
    return result, contract


def readable(cleaned: DataFrame) -> DataFrame:
    """The cleaned rows that are not malformed lines."""
    return cleaned.where(F.col(CORRUPT).isNull()) if CORRUPT in cleaned.columns else cleaned


def prepare(ctx: RunContext) -> PrepareResult | None:
    """Clean bronze (at the run's version: the one ingest wrote, else the latest) into silver and quarantine; a
    given test source likewise into silver_test, under the contract inferred from the training source. Up to
    date (in `run`), nothing is read: the run goes on with the kept silver."""
    with step("prepare") as progress:
        if ctx.kept is not None:
            progress.done(
                f"up to date: {ctx.kept.describe('silver', 'silver_test')} was cleaned from it with this config "
                "(--fresh reads the raw files again)"
            )
            return None
        result, contract = prepare_side(ctx, TRAINING, None)
        counted = {name: result.by_split.get(name, Counter()) for name in SPLITS}
        outcome = f"{result.accepted:,} rows -> {ctx.tables.location('silver')}, {result.quarantined:,} quarantined"
        if ctx.cfg.test_source:
            test, _ = prepare_side(ctx, GIVEN_TEST, contract)
            counted["test"] = test.by_split.get("test", Counter())
            outcome += f"; test {test.accepted:,} rows, {test.quarantined:,} quarantined"
        # the split step checks these counts of silver's rows, made in the same pass, rather than count again
        ctx.counted = {
            name: Counter({contract.classes.index(v): n for v, n in c.items()}) for name, c in counted.items()
        }
        left_out = f" ({', '.join(contract.empty)} left out: no values)" if contract.empty else ""
        progress.done(
            f"{outcome}; {len(contract.numeric)} numeric, {len(contract.categorical)} categorical "
            f"features{left_out}, classes {', '.join(contract.classes)}"
        )
    return result
