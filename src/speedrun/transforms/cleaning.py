"""The cleaning transforms of prepare, pure: DataFrame in, DataFrame out, nothing read or written. Strings are
trimmed, null tokens made missing, numbers cast, the label normalized and made a class index; a row that cannot
be cleaned is tagged with its reason (`_reject_reason`), never dropped. Batch scoring cleans new rows the same way."""

from __future__ import annotations

from functools import partial

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from speedrun.config import ColumnsConfig
from speedrun.transforms.columns import CORRUPT, REASON, ROW_KEY, SOURCE_FILE, SPLIT, column
from speedrun.transforms.contract import Contract, as_double, number


def trim_strings(df: DataFrame, null_values: list[str] | tuple[str, ...] = ("",)) -> DataFrame:
    """Trim every string column; a value that is a null token after trimming (by default: empty) is missing."""
    trimmed = {}
    for field in df.schema.fields:
        if field.dataType.typeName() == "string" and not field.name.startswith("_"):
            value = F.trim(column(field.name))
            trimmed[field.name] = F.when(~value.isin(*null_values), value)
    return df.withColumns(trimmed)


def normalize_label(df: DataFrame, label: str) -> DataFrame:
    """`'>50K.'` -> `>50K`: the label without surrounding quotes or trailing dots (as `config.normalize_label`)."""
    value = F.trim(column(label).cast("string"))
    value = F.trim(F.regexp_replace(value, r"^['\"]+|['\"]+$", ""))
    return df.withColumn(label, F.nullif(F.trim(F.regexp_replace(value, r"\.+$", "")), F.lit("")))


def with_row_key(df: DataFrame, id_column: str | None) -> DataFrame:
    """A stable key of the row's content (or of its id column): the same row gets the same key in every run."""
    keyed = [id_column] if id_column else sorted(c for c in df.columns if not c.startswith("_"))
    return df.withColumn(ROW_KEY, F.xxhash64(*[column(c).cast("string") for c in keyed]))


def malformed_reason(line: Column, quote: str, record_format: str = "csv") -> Column:
    """Why a line was malformed: a JSON line that is not a record; a CSV line with the wrong number of fields,
    which, with an odd number of quote characters, is most likely half of a record whose quoted value holds a line
    break, which `source.multiline: true` reads whole."""
    if record_format == "json":
        return F.lit("malformed line (not a JSON record)")
    quotes = F.length(line) - F.length(F.replace(line, F.lit(quote), F.lit("")))
    return F.when(
        (F.lit(quote) != "") & (quotes % 2 == 1),
        F.lit(
            "malformed line (wrong number of fields; an unbalanced quote: half of a quoted value with a line "
            "break? set source.multiline: true)"
        ),
    ).otherwise(F.lit("malformed line (wrong number of fields)"))


def with_reject_reason(
    df: DataFrame, contract: Contract, label: str | None, quote: str = '"', record_format: str = "csv"
) -> DataFrame:
    """`_reject_reason`: why a row cannot be cleaned, or null for a good row (no label checks without a label:
    rows to score have none); `quote` and `record_format` as the files were read (a malformed line's reason, its
    only one: its other values are not where they belong)."""
    checks = [
        F.when(column(name).isNotNull() & as_double(df, name).isNull(), F.lit(f"{name}: not a number"))
        for name in contract.numeric
    ]
    checks += [
        F.when(F.abs(as_double(df, name)) == float("inf"), F.lit(f"{name}: not a finite number"))
        for name in contract.numeric
    ]
    if label is not None:
        value = column(label)
        checks += [
            F.when(value.isNull(), F.lit(f"{label}: label is missing")),
            F.when(
                value.isNotNull() & ~value.isin(contract.classes),
                F.lit(f"{label}: label is not one of {', '.join(contract.classes)}"),
            ),
        ]
    reason = F.concat_ws("; ", *checks)
    reason = F.when(reason != "", reason)
    if CORRUPT in df.columns:  # a malformed line is quarantined whole, for that reason alone
        reason = F.when(F.col(CORRUPT).isNotNull(), malformed_reason(F.col(CORRUPT), quote, record_format)).otherwise(
            reason
        )
    return df.withColumn(REASON, reason)


def accepted(tagged: DataFrame) -> DataFrame:
    """The rows without a reject reason, the reason computed once per row (see `kept_whole`)."""
    return kept_whole(tagged, "accepted").where(F.col(REASON).isNull())


def rejected(tagged: DataFrame) -> DataFrame:
    """The rows with a reject reason, the reason computed once per row (see `kept_whole`)."""
    return kept_whole(tagged, "rejected").where(F.col(REASON).isNotNull())


def kept_whole(tagged: DataFrame, name: str) -> DataFrame:
    """`tagged` behind an observation point (its rows counted, as `speedrun_<name>`): Spark's optimizer pushes a
    filter through projections by inlining them, so a filter on the reason of uncached rows would otherwise be
    evaluated on the raw columns, every cleaned value it reads cleaned again there, and once more above it (3x
    the time of the cleaning at 10^6 rows, measured); it does not push a filter through an observation."""
    return tagged.observe(f"speedrun_{name}", F.count(F.lit(1)).alias("rows"))


def typed_features(contract: Contract) -> list[Column]:
    """The id and feature columns, typed as the model takes them: numbers as double, categories as strings."""
    return [
        *([column(contract.id).cast("string")] if contract.id else []),
        *[number(column(name)).alias(name) for name in contract.numeric],
        *[column(name).cast("string").alias(name) for name in contract.categorical],
    ]


def to_silver(df: DataFrame, contract: Contract, label: str, split: Column | None = None) -> DataFrame:
    """The typed, model-ready columns of good rows: numbers as double, the label as its class index, and each
    row's split (`split`, a column of the row key; by default, every row is test)."""
    classes = F.array(*[F.lit(c) for c in contract.classes])
    label_index = (F.array_position(classes, column(label)) - 1).cast("double")
    return df.select(
        *typed_features(contract),
        contract.label_column(label_index),
        ROW_KEY,
        SOURCE_FILE,
    ).withColumn(SPLIT, F.lit("test") if split is None else split)


def clean(df: DataFrame, columns: ColumnsConfig, null_values: list[str] | tuple[str, ...] = ("",)) -> DataFrame:
    """Bronze rows, trimmed, with null tokens missing, the label normalized, and a row key."""
    return (
        df.transform(partial(trim_strings, null_values=null_values))
        .transform(lambda d: normalize_label(d, columns.label.column) if columns.label.column in d.columns else d)
        .transform(partial(with_row_key, id_column=columns.id))
    )
