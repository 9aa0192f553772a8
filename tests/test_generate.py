"""generate: deterministic synthetic data that looks like a real tabular dataset."""

from __future__ import annotations

from pyspark.sql import functions as F

from speedrun.transforms.synthetic import COLUMNS, synthetic_churn


def test_same_rows_whatever_the_partitioning(spark) -> None:
    # GIVEN the dataset generated twice with the same seed
    a = synthetic_churn(spark, 500, seed=3)
    b = synthetic_churn(spark, 500, seed=3).repartition(7)
    # THEN both hold exactly the same rows; another seed gives other rows
    assert a.exceptAll(b).isEmpty() and b.exceptAll(a).isEmpty()
    assert not a.exceptAll(synthetic_churn(spark, 500, seed=4)).isEmpty()


def test_looks_like_real_data(spark) -> None:
    # WHEN 20,000 rows are generated
    df = synthetic_churn(spark, 20_000, seed=7).cache()
    stats = df.select(
        F.avg((F.col("churned") == "yes").cast("double")).alias("positive_rate"),
        *[F.sum(F.col(c).isNull().cast("int")).alias(c) for c in COLUMNS],
        F.sum(F.col("contract").startswith(" ").cast("int")).alias("padded"),
    ).first()
    # THEN 20-30% positives, missing values in several columns, stray whitespace to clean
    assert 0.2 <= stats["positive_rate"] <= 0.3
    assert sum(1 for c in COLUMNS if stats[c] > 0) >= 4
    assert stats["churned"] == 0 and stats["customer_id"] == 0
    assert stats["padded"] > 0
    assert df.select("customer_id").distinct().count() == 20_000
