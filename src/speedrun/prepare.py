"""prepare: bronze -> silver and quarantine, by the cleaning transforms of `cleaning` (strings trimmed, null tokens
made missing, numbers cast, the label normalized and made a class index), under the data contract inferred from
the cleaned rows.

A row that cannot be cleaned (a malformed line, a number that is not one, a missing or unknown label) is never
dropped: it goes to the `<name>_quarantine` table with its reason, its file and its row key, and
bronze rows = silver rows + quarantined rows. Too many quarantined rows fail the run before anything is written.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import partial

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from speedrun.background import BackgroundWrites, Lineage
from speedrun.cleaning import clean, to_silver, with_reject_reason
from speedrun.columns import CORRUPT, REASON, column
from speedrun.config import Config
from speedrun.contract import Contract, infer_contract
from speedrun.delta_log import INPUTS
from speedrun.errors import SpeedrunError
from speedrun.progress import step
from speedrun.split import split_of
from speedrun.tables import Tables


@dataclass(frozen=True)
class Side:
    """The tables of one source: the training source, or a given test file."""

    bronze: str
    silver: str
    quarantine: str
    min_classes: int  # a training source must hold two classes; a test file may hold one


TRAINING = Side("bronze", "silver", "quarantine", min_classes=2)
GIVEN_TEST = Side("bronze_test", "silver_test", "quarantine_test", min_classes=1)


@dataclass(frozen=True)
class Bronze:
    """A bronze table to clean: its version (None: the latest, or in `run` the one its pending write makes) and,
    when the caller holds them, its rows."""

    version: int | None = None
    rows: DataFrame | None = None
    inputs: str | None = None  # in `run`: the fingerprint of what silver is made from (see `unchanged`)

    def lineage(self, role: str, writes: BackgroundWrites) -> Lineage:
        """What silver records it was made from: this version, or that of the write still under way."""
        fingerprint = {INPUTS: self.inputs} if self.inputs else {}
        if self.version is not None:
            return {role: self.version, **fingerprint}
        return lambda: {role: writes.commit(role).version, **fingerprint}


@dataclass(frozen=True)
class PrepareResult:
    accepted: int
    quarantined: int
    reasons: dict[str, int]
    silver_version: int | None = None
    silver_test_version: int | None = None


@dataclass(frozen=True)
class Prepared:
    """What prepare wrote, and silver's rows as written, cached for the steps after it in the same process
    (`release()` frees them)."""

    result: PrepareResult
    contract: Contract
    silver: DataFrame
    silver_test: DataFrame | None
    cached: tuple[DataFrame, ...]

    def release(self) -> None:
        for df in self.cached:
            df.unpersist()


def summarize(tagged: DataFrame, label: str, max_quarantined: float = 1.0, min_classes: int = 2) -> PrepareResult:
    """One pass: rows accepted (by class), rows quarantined (by reason); errors when too little is left to learn."""
    groups = tagged.groupBy(REASON, column(label)).count().collect()
    accepted = Counter({row[label]: row["count"] for row in groups if row[REASON] is None})
    reasons = Counter()
    for row in groups:
        if row[REASON] is not None:
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
    return PrepareResult(sum(accepted.values()), quarantined, dict(reasons.most_common()))


def prepare_side(
    spark: SparkSession,
    cfg: Config,
    side: Side,
    bronze: Bronze,
    contract: Contract | None,
    writes: BackgroundWrites,
) -> tuple[PrepareResult, Contract, DataFrame, DataFrame]:
    """Clean one bronze table into its silver and quarantine tables (written through `writes`), inferring the
    contract if none is given. Returns silver's rows as written and the cache they are read from (the caller
    unpersists it)."""
    tables, label = Tables(cfg), cfg.columns.label.column
    if bronze.rows is None and bronze.version is None:
        bronze = Bronze(tables.version(spark, side.bronze))
    rows = bronze.rows if bronze.rows is not None else tables.read(spark, side.bronze, bronze.version)
    source = cfg.source if side is TRAINING else cfg.test_source
    cleaned = rows.transform(partial(clean, columns=cfg.columns, null_values=source.null_values)).persist()
    try:
        contract = contract or infer_contract(
            cleaned.where(F.col(CORRUPT).isNull()) if CORRUPT in cleaned.columns else cleaned, cfg.columns
        )
        tagged = with_reject_reason(cleaned, contract, label, source.quote)
        result = summarize(tagged, label, cfg.prepare.max_quarantined_fraction, side.min_classes)
        split = split_of(cfg.split, cfg.test_source is not None) if side is TRAINING else None
        silver = tagged.where(F.col(REASON).isNull()).transform(
            partial(to_silver, contract=contract, label=label, split=split)
        )
        lineage = bronze.lineage(side.bronze, writes)
        writes.submit(side.silver, silver, lineage)
        writes.submit(side.quarantine, tagged.where(F.col(REASON).isNotNull()), lineage)
    except BaseException:
        cleaned.unpersist()
        raise
    return result, contract, silver, cleaned


def prepare(
    spark: SparkSession,
    cfg: Config,
    bronze_version: int | None = None,
    bronze_test_version: int | None = None,
) -> PrepareResult:
    """Clean bronze (at `bronze_version`, default the latest) into silver and quarantine; a given test source
    likewise into silver_test, under the contract inferred from the training source."""
    with BackgroundWrites(Tables(cfg), announce=False) as writes:
        prepared = prepare_and_keep(spark, cfg, Bronze(bronze_version), Bronze(bronze_test_version), writes)
    prepared.release()
    return prepared.result


def prepare_and_keep(
    spark: SparkSession,
    cfg: Config,
    bronze: Bronze,
    bronze_test: Bronze,
    writes: BackgroundWrites,
    wait_for_writes: bool = True,
) -> Prepared:
    """`prepare`, keeping silver's rows cached for the steps that follow in this process. Silver and quarantine
    are written through `writes`: prepare waits for them when it ran alone (its result then has their versions),
    `run` only at the end."""
    tables = Tables(cfg)
    with step("prepare") as progress:
        result, contract, silver_rows, cached = prepare_side(spark, cfg, TRAINING, bronze, None, writes)
        outcome = f"{result.accepted:,} rows -> {tables.location('silver')}, {result.quarantined:,} quarantined"
        test_rows, kept = None, (cached,)
        if cfg.test_source:
            test, _, test_rows, test_cached = prepare_side(spark, cfg, GIVEN_TEST, bronze_test, contract, writes)
            kept = (cached, test_cached)
            outcome += f"; test {test.accepted:,} rows, {test.quarantined:,} quarantined"
        if wait_for_writes:
            written = writes.wait()
            versions = [written[role].version if role in written else None for role in ("silver", "silver_test")]
            result = PrepareResult(result.accepted, result.quarantined, result.reasons, *versions)
        left_out = f" ({', '.join(contract.empty)} left out: no values)" if contract.empty else ""
        progress.done(
            f"{outcome}; {len(contract.numeric)} numeric, {len(contract.categorical)} categorical "
            f"features{left_out}, classes {', '.join(contract.classes)}"
        )
    return Prepared(result, contract, silver_rows, test_rows, kept)
