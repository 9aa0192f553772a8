"""What prepare learns of the rows it cleaned, in one pass: how many were accepted (by class, and by split), how
many quarantined (by reason), how many have a value per feature; and the checks that stop a run with too little
left to learn. Pure: a DataFrame in, counts out (one Spark job)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from speedrun.errors import SpeedrunError
from speedrun.transforms.columns import REASON, SPLIT, column


@dataclass(frozen=True)
class PrepareResult:
    accepted: int
    quarantined: int
    reasons: dict[str, int]
    by_split: dict[str, Counter] = field(default_factory=dict)  # accepted rows per split and label value
    values: dict[str, int] = field(default_factory=dict)  # accepted rows with a value, per feature counted
    counts: dict[str, Counter] = field(default_factory=dict)  # silver's rows per split and class index (`prepare`)


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
