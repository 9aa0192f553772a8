"""A deterministic synthetic churn dataset that looks like real tabular data, generated with Spark.

Every random draw is a hash of (row id, seed, draw number), not `rand()`: the same rows come out whatever
the partitioning, the number of cores or the row count per file, and 10^7 rows cost no more code than 10^3.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from speedrun.errors import SpeedrunError

TWO_POW_53 = float(2**53)


def uniform(seed: int, draw: int) -> Column:
    """A uniform number in [0, 1), a pure function of the row's `id`, the seed and the draw number."""
    return F.pmod(F.xxhash64(F.col("id"), F.lit(seed), F.lit(draw)), F.lit(2**53)).cast("double") / TWO_POW_53


def normal(seed: int, draw: int) -> Column:
    """A standard normal number (Box-Muller over two uniforms)."""
    u1, u2 = 1.0 - uniform(seed, draw), uniform(seed, draw + 1000)
    return F.sqrt(-2.0 * F.log(u1)) * F.cos(2 * math.pi * u2)


def pick(u: Column, choices: list[tuple[str, float]]) -> Column:
    """One of `choices` (value, cumulative probability) for a uniform `u`."""
    expr = F.lit(choices[-1][0])
    for value, upper in reversed(choices[:-1]):
        expr = F.when(u < upper, F.lit(value)).otherwise(expr)
    return expr


def with_true_features(df: DataFrame, seed: int) -> DataFrame:
    """The customers' measurements, in three passes: each column is made from the draws and the columns of the
    passes before it (one `withColumns` per pass: each `withColumn` would have Spark analyse the plan again)."""
    u = partial(uniform, seed)
    drawn = {
        "customer_id": F.format_string("C%09d", F.col("id")),
        "age": F.greatest(F.lit(18), F.least(F.lit(85), F.round(41 + 13 * normal(seed, 1)))).cast("int"),
        "tenure_months": F.floor(72 * F.pow(u(2), F.lit(1.4))),
        "internet_service": pick(u(4), [("fiber", 0.45), ("dsl", 0.8), ("none", 1.0)]),
        "support_calls": F.least(F.lit(12), F.floor(-F.log(1.0 - u(7)) * 1.6)),
        "payment_method": pick(u(8), [("card", 0.35), ("bank", 0.6), ("check", 0.8), ("paypal", 1.0)]),
        "region": pick(u(9), [("north", 0.25), ("south", 0.5), ("east", 0.75), ("west", 1.0)]),
        "signup_channel": pick(u(10), [("web", 0.4), ("store", 0.7), ("phone", 0.9), ("partner", 1.0)]),
        "satisfaction_score": F.round(5 + 2 * normal(seed, 11), 2),
        "web_visits": F.floor(30 * u(12)),
    }
    dependent = {
        "contract": pick(
            u(3) + F.col("tenure_months") / 200, [("month-to-month", 0.55), ("one-year", 0.85), ("two-year", 9.0)]
        ),
        "monthly_charges": F.round(20 + 80 * u(5) + F.when(F.col("internet_service") == "fiber", 20).otherwise(0), 2),
    }
    total = F.round(F.col("tenure_months") * F.col("monthly_charges") * (0.9 + 0.2 * u(6)), 2)
    return df.withColumns(drawn).withColumns(dependent).withColumn("total_charges", total)


def churn_logit(seed: int) -> Column:
    """Churn's log-odds: non-linear in several features (thresholds, interactions, a sine) plus noise;
    region, signup_channel and web_visits are irrelevant."""
    c = F.col
    return (
        -1.15
        + 1.5 * (c("contract") == "month-to-month").cast("double")
        - 0.6 * (c("contract") == "two-year").cast("double")
        - 0.045 * c("tenure_months")
        + 0.02 * (c("monthly_charges") - 70)
        + 0.9 * ((c("internet_service") == "fiber") & (c("monthly_charges") > 95)).cast("double")
        + 0.55 * F.greatest(c("support_calls") - 2, F.lit(0))
        + 0.9 * (c("age") < 28).cast("double")
        + 0.5 * F.sin(c("age") / 6.0)
        - 0.25 * (c("satisfaction_score") - 5)
        + 0.4 * (c("payment_method") == "check").cast("double")
        + 0.5 * normal(seed, 20)
    )


def with_label(df: DataFrame, seed: int, offset: float = 0.0) -> DataFrame:
    """`churned` drawn from the churn logit, moved by `offset` (a rarer or commoner churn)."""
    churned = uniform(seed, 21) < 1 / (1 + F.exp(-(churn_logit(seed) + offset)))
    return df.withColumn("churned", F.when(churned, "yes").otherwise("no"))


CALIBRATION_ROWS = 20_000


def offset_for(spark: SparkSession, seed: int, positive_share: float) -> float:
    """The logit offset that makes `positive_share` of the rows churn (on average), found by bisection over the
    logits of a first 20,000 rows: one Spark job, and the same offset for a seed whatever the row count."""
    logits = (
        spark.range(0, CALIBRATION_ROWS, 1, 1)
        .transform(partial(with_true_features, seed=seed))
        .select(churn_logit(seed).alias("logit"))
        .toArrow()["logit"]
        .to_numpy()
    )
    low, high = -30.0, 30.0
    for _ in range(60):
        middle = (low + high) / 2
        share = float(np.mean(1 / (1 + np.exp(-(logits + middle)))))
        low, high = (middle, high) if share < positive_share else (low, middle)
    return round((low + high) / 2, 6)


NUMERIC = (
    "age",
    "tenure_months",
    "monthly_charges",
    "total_charges",
    "support_calls",
    "satisfaction_score",
    "web_visits",
)


def with_shift(df: DataFrame, shift: dict[str, float]) -> DataFrame:
    """Numeric columns moved by a constant (`{monthly_charges: 20}`): a batch whose distribution drifted."""
    unknown = sorted(set(shift) - set(NUMERIC))
    if unknown:
        raise SpeedrunError(f"--shift {unknown[0]}: not a numeric column; shift one of {', '.join(NUMERIC)}")
    return df.withColumns({name: F.col(name) + F.lit(amount) for name, amount in shift.items()})


def with_raw_quirks(df: DataFrame, seed: int) -> DataFrame:
    """What real files have: missing values in several columns, stray whitespace around some strings."""
    u = partial(uniform, seed)

    def blank(name: str, rate: float, draw: int) -> Column:
        return F.when(u(draw) < rate, F.lit(None)).otherwise(F.col(name))

    padded = F.when(u(35) < 0.02, F.concat(F.lit(" "), F.col("contract"), F.lit(" "))).otherwise(F.col("contract"))
    return df.withColumns(
        {
            "age": blank("age", 0.03, 30),
            "monthly_charges": blank("monthly_charges", 0.05, 31),
            "total_charges": blank("total_charges", 0.02, 32),
            "payment_method": blank("payment_method", 0.04, 33),
            "satisfaction_score": blank("satisfaction_score", 0.08, 34),
            "contract": padded,
        }
    )


COLUMNS = [
    "customer_id",
    "age",
    "tenure_months",
    "contract",
    "internet_service",
    "monthly_charges",
    "total_charges",
    "support_calls",
    "payment_method",
    "region",
    "signup_channel",
    "satisfaction_score",
    "web_visits",
    "churned",
]


def synthetic_churn(
    spark: SparkSession,
    rows: int,
    seed: int,
    positive_share: float | None = None,
    shift: dict[str, float] | None = None,
) -> DataFrame:
    """`rows` rows of churn data; `positive_share`: about that share churns (default about a quarter); `shift`:
    numeric columns moved by a constant after the label is drawn (the same customers, drifted measurements)."""
    partitions = max(1, math.ceil(rows / 1_000_000))
    offset = offset_for(spark, seed, positive_share) if positive_share is not None else 0.0
    return (
        spark.range(0, rows, 1, partitions)
        .transform(partial(with_true_features, seed=seed))
        .transform(partial(with_label, seed=seed, offset=offset))
        .transform(partial(with_raw_quirks, seed=seed))
        .transform(partial(with_shift, shift=shift or {}))
        .select(*COLUMNS)
    )
