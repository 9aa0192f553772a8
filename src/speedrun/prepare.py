"""prepare: bronze -> silver, stateless cleaning: strings trimmed, numbers cast, label made numeric.

A row that cannot be cleaned (a number that is not one, a missing or unknown label) is never dropped: it
goes to the `<name>_quarantine` table with its reason, and bronze rows = silver rows + quarantined rows.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from functools import partial

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from speedrun.config import ColumnsConfig, Config
from speedrun.errors import SpeedrunError
from speedrun.progress import step
from speedrun.tables import Tables
from speedrun.validate import require_columns

REASON = "_reject_reason"
ROW_KEY = "_row_key"
LABEL = "label"


def trim_strings(df: DataFrame) -> DataFrame:
    """Trim every string column; a value that is empty after trimming is missing."""
    trimmed = {
        field.name: F.nullif(F.trim(F.col(field.name)), F.lit(""))
        for field in df.schema.fields
        if field.dataType.typeName() == "string" and not field.name.startswith("_")
    }
    return df.withColumns(trimmed)


def with_row_key(df: DataFrame, columns: ColumnsConfig) -> DataFrame:
    """A stable key of the row's content (or of its id column): the same row gets the same key in every run."""
    keyed = [columns.id] if columns.id else sorted(c for c in df.columns if not c.startswith("_"))
    return df.withColumn(ROW_KEY, F.xxhash64(*[F.col(c).cast("string") for c in keyed]))


def with_reject_reason(df: DataFrame, columns: ColumnsConfig) -> DataFrame:
    """`_reject_reason`: why a row cannot be cleaned, or null for a good row."""
    label = F.col(columns.label.column).cast("string")
    known = ", ".join(columns.label.classes)
    checks = [
        F.when(F.col(name).isNotNull() & F.col(name).try_cast("double").isNull(), F.lit(f"{name}: not a number"))
        for name in columns.numeric
    ]
    checks += [
        F.when(label.isNull(), F.lit(f"{columns.label.column}: label is missing")),
        F.when(
            label.isNotNull() & ~label.isin(columns.label.classes),
            F.lit(f"{columns.label.column}: label is not one of {known}"),
        ),
    ]
    reason = F.concat_ws("; ", *checks)
    return df.withColumn(REASON, F.when(reason != "", reason))


def to_silver(df: DataFrame, columns: ColumnsConfig) -> DataFrame:
    """The typed, model-ready columns of good rows: numbers as double, label as its class index."""
    classes = F.array(*[F.lit(c) for c in columns.label.classes])
    label_index = (F.array_position(classes, F.col(columns.label.column).cast("string")) - 1).cast("double")
    return df.select(
        *([F.col(columns.id).cast("string")] if columns.id else []),
        *[F.col(name).try_cast("double").alias(name) for name in columns.numeric],
        *[F.col(name).cast("string").alias(name) for name in columns.categorical],
        label_index.alias(LABEL),
        ROW_KEY,
        "_source_file",
    )


def clean(df: DataFrame, columns: ColumnsConfig) -> DataFrame:
    """Bronze rows, trimmed, keyed and tagged with their reject reason (null when good)."""
    return (
        df.transform(trim_strings)
        .transform(partial(with_row_key, columns=columns))
        .transform(partial(with_reject_reason, columns=columns))
    )


@dataclass(frozen=True)
class PrepareResult:
    accepted: int
    quarantined: int
    reasons: dict[str, int]
    silver_version: int | None = None


def summarize(tagged: DataFrame, columns: ColumnsConfig) -> PrepareResult:
    """One pass: rows accepted, rows quarantined by reason; errors when too little is left to learn from."""
    label = columns.label.column
    groups = tagged.groupBy(REASON, F.col(label).cast("string").alias(label)).count().collect()
    accepted = Counter({row[label]: row["count"] for row in groups if row[REASON] is None})
    reasons = Counter()
    for row in groups:
        if row[REASON] is not None:
            reasons[row[REASON]] += row["count"]
    if not accepted:
        top = "; ".join(f"{reason} ({n:,} rows)" for reason, n in reasons.most_common(3))
        raise SpeedrunError(f"no rows left after cleaning: {top or 'the input is empty'}")
    if len(accepted) < 2:
        raise SpeedrunError(
            f"label column {label} has a single class ({next(iter(accepted))!r}) after cleaning; "
            "a classifier needs at least two"
        )
    return PrepareResult(sum(accepted.values()), sum(reasons.values()), dict(reasons.most_common()))


def prepare(spark: SparkSession, cfg: Config, bronze_version: int | None = None) -> PrepareResult:
    """Clean bronze (at `bronze_version`, default the latest) into silver and quarantine."""
    tables = Tables(cfg)
    with step("prepare") as progress:
        bronze_version = tables.version(spark, "bronze") if bronze_version is None else bronze_version
        bronze = tables.read(spark, "bronze", bronze_version)
        require_columns(bronze, [*cfg.columns.features, cfg.columns.label.column], where=tables.location("bronze"))
        tagged = bronze.transform(partial(clean, columns=cfg.columns)).persist()
        try:
            result = summarize(tagged, cfg.columns)
            silver = tables.write(
                tagged.where(F.col(REASON).isNull()).transform(partial(to_silver, columns=cfg.columns)),
                "silver",
                lineage={"bronze": bronze_version},
            )
            tables.write(tagged.where(F.col(REASON).isNotNull()), "quarantine", lineage={"bronze": bronze_version})
        finally:
            tagged.unpersist()
        result = replace(result, silver_version=silver.version)
        progress.done(f"{result.accepted:,} rows -> {tables.location('silver')}, {result.quarantined:,} quarantined")
    return result
