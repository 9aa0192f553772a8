"""Drift of a scored batch from the training rows, feature by feature.

At training, each feature's profile on the training rows: a number's quantile bins (their edges and each bin's
share of rows, missing values a bin of their own), a category's share of rows per value (the most frequent
`MAX_CATEGORIES`, the rest as one `(other)` value). At scoring, the batch's shares in the same bins, values the
training rows never held as `(unseen)`, and per feature the population stability index (PSI) between the two:
sum over bins of (batch share - training share) * ln(batch share / training share). Under 0.1 is commonly read
as stable, 0.1-0.25 as moved, above 0.25 as shifted."""

from __future__ import annotations

import json
import math
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from speedrun.transforms.columns import column
from speedrun.transforms.contract import Contract

MISSING, UNSEEN, OTHER = "(missing)", "(unseen)", "(other)"
MAX_CATEGORIES = 200
SMALLEST_SHARE = 1e-4  # a bin empty on one side counts as this share: the index stays finite
Profile = dict[str, dict[str, Any]]  # feature -> {"kind", "edges" (numbers), "shares": {bin: share}}


def quantile_edges(rows: DataFrame, numeric: list[str], bins: int) -> dict[str, list[float]]:
    """Each number's inner bin edges: its quantiles at 1/bins .. (bins-1)/bins, repeats dropped (one Spark job)."""
    if not numeric:
        return {}
    levels = [i / bins for i in range(1, bins)]
    found = rows.agg(*[F.percentile_approx(column(c), levels, 10_000).alias(f"q{i}") for i, c in enumerate(numeric)])
    edges = found.first()
    return {c: sorted({float(e) for e in edges[f"q{i}"] or []}) for i, c in enumerate(numeric)}


def bin_of(name: str, edges: list[float] | None, kept: list[str] | None, has_other: bool) -> Column:
    """The bin of feature `name` in a row: a number's bin index among `edges` (`k`: above k edges), a category's
    value (one of `kept`, else `(other)` or `(unseen)`; every value when `kept` is None), `(missing)` for null."""
    value = column(name)
    if edges is not None:
        index = sum((value > F.lit(e)).cast("int") for e in edges) if edges else F.lit(0)
        binned = index.cast("string")
    elif kept is None:
        binned = value.cast("string")
    else:
        binned = F.when(value.isin(kept), value).otherwise(F.lit(OTHER if has_other else UNSEEN))
    return F.when(value.isNull(), F.lit(MISSING)).otherwise(binned)


def bin_counts(rows: DataFrame, bins: dict[str, Column]) -> dict[str, dict[str, int]]:
    """Rows per (feature, bin), every feature in one Spark job."""
    pairs = F.explode(F.array(*[F.struct(F.lit(f).alias("feature"), b.alias("bin")) for f, b in bins.items()]))
    counted = rows.select(pairs.alias("p")).groupBy("p.feature", "p.bin").count().collect()
    out: dict[str, dict[str, int]] = {f: {} for f in bins}
    for feature, bin_, n in counted:
        out[feature][bin_] = n
    return out


def shares(counts: dict[str, int]) -> dict[str, float]:
    total = sum(counts.values())
    return {b: n / total for b, n in sorted(counts.items())} if total else {}


def kept_categories(counts: dict[str, int]) -> dict[str, int]:
    """The `MAX_CATEGORIES` most frequent values (ties by value), the rest summed as `(other)`."""
    values = sorted((b for b in counts if b != MISSING), key=lambda b: (-counts[b], b))
    kept = {b: counts[b] for b in values[:MAX_CATEGORIES]}
    rest = sum(counts[b] for b in values[MAX_CATEGORIES:])
    return {**kept, **({OTHER: rest} if rest else {}), **({MISSING: counts[MISSING]} if MISSING in counts else {})}


PROFILED_ROWS = 200_000  # shares within about 0.2 % of the whole's: plenty for an index read at 0.1 and 0.25


def profiled_rows(rows: DataFrame, count: int) -> DataFrame:
    """The training rows to profile: all of them up to `PROFILED_ROWS`, else a seeded sample of about that many
    (the profile's two passes then cost the same at 10^7 rows as at 2 x 10^5)."""
    return rows if count <= PROFILED_ROWS else rows.sample(fraction=PROFILED_ROWS / count, seed=17)


def training_profile(rows: DataFrame, contract: Contract, bins: int) -> Profile:
    """Each feature's profile on the training rows (two Spark jobs: the quantiles, then every bin's count)."""
    edges = quantile_edges(rows, contract.numeric, bins)
    binning = {f: bin_of(f, edges.get(f), None, False) for f in contract.features}
    counts = bin_counts(rows, binning) if binning else {}
    profile: Profile = {f: {"kind": "numeric", "edges": edges[f], "shares": shares(counts[f])} for f in edges}
    for f in contract.categorical:
        profile[f] = {"kind": "categorical", "shares": shares(kept_categories(counts[f]))}
    return profile


def batch_binning(profile: Profile) -> dict[str, Column]:
    """How a batch's rows fall into the training profile's bins."""
    return {
        f: bin_of(
            f,
            p.get("edges"),
            None if p["kind"] == "numeric" else [b for b in p["shares"] if b not in (OTHER, MISSING)],
            OTHER in p["shares"],
        )
        for f, p in profile.items()
    }


def stability_index(expected: dict[str, float], actual: dict[str, float]) -> float:
    """The population stability index of `actual` shares against `expected` ones."""
    total = 0.0
    for b in sorted(set(expected) | set(actual)):
        e, a = max(expected.get(b, 0.0), SMALLEST_SHARE), max(actual.get(b, 0.0), SMALLEST_SHARE)
        total += (a - e) * math.log(a / e)
    return total


def drift_rows(profile: Profile, counts: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    """Per feature: its kind, PSI, the share of unseen values, and every bin's training and batch shares."""
    out = []
    for feature, p in profile.items():
        actual = shares(counts.get(feature, {}))
        bins = [
            {"bin": bin_label(b, p.get("edges")), "training": p["shares"].get(b, 0.0), "batch": actual.get(b, 0.0)}
            for b in sorted(set(p["shares"]) | set(actual), key=bin_order)
        ]
        out.append(
            {
                "feature": feature,
                "kind": p["kind"],
                "psi": stability_index(p["shares"], actual),
                "unseen_share": actual.get(UNSEEN, 0.0),
                "bins": json.dumps(bins),
            }
        )
    return out


def bin_label(b: str, edges: list[float] | None) -> str:
    """A number bin's range (`<= 20.5`, `20.5 - 41`, `> 99`); any other bin as it is."""
    if edges is None or not b.isdigit():
        return b
    k = int(b)
    if not edges:
        return "all"
    if k == 0:
        return f"<= {edges[0]:g}"
    return f"> {edges[-1]:g}" if k == len(edges) else f"{edges[k - 1]:g} - {edges[k]:g}"


def bin_order(b: str) -> tuple[int, float, str]:
    """Number bins in order, then categories by name, then the special bins."""
    if b.isdigit():
        return 0, float(b), ""
    return (2 if b in (OTHER, UNSEEN, MISSING) else 1), 0.0, b
