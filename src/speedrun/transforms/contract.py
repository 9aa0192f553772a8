"""The data contract: which columns are numeric or categorical features, and the label's classes.

Declared in the config or inferred from the training data by prepare, then carried with the data itself: it
is stored in the metadata of silver's `label` column, so the splits, train, evaluate and replay read the
very contract the rows were cleaned with, even in another process.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from speedrun.config import ColumnsConfig, normalize_label
from speedrun.errors import SpeedrunError
from speedrun.transforms.columns import LABEL, column

METADATA_KEY = "speedrun_contract"
MAX_CLASSES = 100


@dataclass(frozen=True)
class Contract:
    numeric: list[str]
    categorical: list[str]
    classes: list[str]
    id: str | None = None
    empty: list[str] = field(default_factory=list)  # candidate features left out: no value in any training row

    @property
    def features(self) -> list[str]:
        return [*self.numeric, *self.categorical]

    def label_column(self, index: Column) -> Column:
        """The label index column, carrying this contract in its metadata."""
        return index.alias(LABEL, metadata={METADATA_KEY: json.dumps(asdict(self))})


def contract_of(df: DataFrame) -> Contract:
    """The contract that a prepared table (silver, a split) carries on its label column."""
    if LABEL not in df.columns or METADATA_KEY not in df.schema[LABEL].metadata:
        raise SpeedrunError("these rows were not prepared by this version of speedrun: run `speedrun prepare` again")
    return Contract(**json.loads(df.schema[LABEL].metadata[METADATA_KEY]))


def candidate_features(df: DataFrame, columns: ColumnsConfig) -> list[str]:
    special = {columns.label.column, columns.id, *columns.exclude}
    pool = columns.include if columns.include is not None else [c for c in df.columns if not c.startswith("_")]
    return [c for c in pool if c not in special]


def is_numeric_type(df: DataFrame, name: str) -> bool:
    return df.schema[name].dataType.typeName() in ("byte", "short", "integer", "long", "float", "double", "decimal")


# What a string that casts to a double starts with (a sign, a digit, a dot, inf, nan): a superset, checked first
# because try_cast fails by an exception per value, five times the cost of a cast that succeeds
MAYBE_A_NUMBER = r"^\s*[+-]?[0-9.iInN]"


def number(value: Column) -> Column:
    """A value as a finite-or-infinite double; NaN (a "NaN" string, or a NaN double) is missing."""
    as_double = value.try_cast("double")
    return F.when(~F.isnan(as_double), as_double)


def string_as_double(value: Column) -> Column:
    """A string column's value as a double, or null where it is not one (try_cast), without try_cast's cost on
    strings that cannot be numbers (most categories)."""
    return F.when(value.rlike(MAYBE_A_NUMBER), value.try_cast("double"))


def as_double(df: DataFrame, name: str) -> Column:
    """Column `name` of `df` as a double or null (try_cast), cheaply for a string column."""
    value = column(name)
    return string_as_double(value) if df.schema[name].dataType.typeName() == "string" else value.try_cast("double")


def declared_contract(df: DataFrame, columns: ColumnsConfig) -> Contract | None:
    """The contract as the config declares it, when it declares it whole (every candidate feature typed, the
    classes listed): nothing to infer, so no pass over the rows for it; which features have no value is then
    counted with the rows (`valued`, `without_empty`). None when something is left to infer."""
    typed = {*columns.numeric, *columns.categorical}
    if not columns.label.classes or any(c not in typed for c in candidate_features(df, columns)):
        return None
    return Contract([*columns.numeric], [*columns.categorical], [*columns.label.classes], columns.id)


def valued(df: DataFrame, contract: Contract) -> dict[str, Column]:
    """Per feature, a column that is non-null where the row has a value (a number, for a numeric feature):
    counted, it says which features have none."""
    return {
        name: number(as_double(df, name)) if name in contract.numeric else column(name) for name in contract.features
    }


def without_empty(contract: Contract, values: dict[str, int]) -> Contract:
    """`contract` without the features that have no value (`values`: each feature's count of values), named in
    its `empty`; an error when none is left."""
    empty = [name for name in contract.features if name in values and not values[name]]
    numeric = [c for c in contract.numeric if c not in empty]
    categorical = [c for c in contract.categorical if c not in empty]
    if not numeric and not categorical:
        left_out = f" ({', '.join(empty)} have no values)" if empty else ""
        raise SpeedrunError(f"no feature columns are left{left_out}: check columns.include and columns.exclude")
    return replace(contract, numeric=numeric, categorical=categorical, empty=empty)


def infer_contract(df: DataFrame, columns: ColumnsConfig) -> Contract:
    """Declared columns as declared; every other candidate numeric when all its values read as numbers.
    A candidate with no value in any row (every value missing, or NaN) is left out, and named in `empty`.
    Classes as declared, or the label's distinct values (numbers in numeric order, else alphabetical;
    a named positive class last). `df` holds trimmed, label-normalized rows of the training source."""
    candidates = candidate_features(df, columns)
    undecided = [c for c in candidates if c not in columns.numeric + columns.categorical]
    checks = [F.lit(1).alias("_rows")]
    for name in undecided:
        if not is_numeric_type(df, name):
            value = column(name)
            checks.append(F.sum((value.isNotNull() & as_double(df, name).isNull()).cast("int")).alias(name))
    checks += [F.count(column(name)).alias(f"_values_{i}") for i, name in enumerate(candidates)]
    # numbers are counted where a column may be numeric: a declared category's values are not cast
    maybe_numeric = [(i, n) for i, n in enumerate(candidates) if n not in columns.categorical]
    checks += [F.count(number(as_double(df, name))).alias(f"_numbers_{i}") for i, name in maybe_numeric]
    found = df.agg(*checks).first()
    numeric = [*columns.numeric]
    categorical = [*columns.categorical]
    for name in undecided:
        (numeric if is_numeric_type(df, name) or not found[name] else categorical).append(name)
    values = {name: found[f"_values_{i}"] for i, name in enumerate(candidates)}
    values |= {name: found[f"_numbers_{i}"] for i, name in enumerate(candidates) if name in numeric}
    typed = without_empty(Contract(numeric, categorical, [], columns.id), values)
    classes = columns.label.classes or infer_classes(df, columns)
    return replace(typed, classes=classes, empty=[c for c in candidates if not values[c]])


def infer_classes(df: DataFrame, columns: ColumnsConfig) -> list[str]:
    label = columns.label.column
    values = [
        r[0]
        for r in df.where(column(label).isNotNull()).select(column(label)).distinct().limit(MAX_CLASSES + 1).collect()
    ]
    if len(values) > MAX_CLASSES:
        raise SpeedrunError(f"label column {label} has more than {MAX_CLASSES} distinct values: is it a class label?")
    if len(values) < 2:
        found = f"a single class ({values[0]!r})" if values else "no values"
        raise SpeedrunError(f"label column {label} has {found} in the training data; a classifier needs two classes")

    def number(v: str) -> float | None:
        try:
            return float(v)
        except ValueError:
            return None

    classes = sorted(values, key=number) if all(number(v) is not None for v in values) else sorted(values)
    positive = columns.label.positive
    if positive is not None:
        positive = normalize_label(positive)
        if positive not in classes:
            raise SpeedrunError(f"columns.label.positive {positive!r} is not a value of {label}: {', '.join(classes)}")
        classes = [c for c in classes if c != positive] + [positive]
    return classes
