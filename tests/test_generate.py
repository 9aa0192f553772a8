"""generate: deterministic synthetic data that looks like a real tabular dataset."""

from __future__ import annotations

import pytest
from pyspark.sql import functions as F

from speedrun.cli import main
from speedrun.transforms.synthetic import COLUMNS, synthetic_churn


def test_same_rows_whatever_the_partitioning(spark) -> None:
    # GIVEN the dataset generated twice with the same seed
    a = synthetic_churn(spark, 500, seed=3)
    b = synthetic_churn(spark, 500, seed=3).repartition(7)
    # THEN both hold exactly the same rows; another seed gives other rows
    rows = lambda df: sorted(df.collect(), key=lambda r: r["customer_id"])  # noqa: E731
    assert rows(a) == rows(b)
    assert rows(a) != rows(synthetic_churn(spark, 500, seed=4))


def test_looks_like_real_data(spark) -> None:
    # WHEN 5,000 rows are generated
    df = synthetic_churn(spark, 5_000, seed=7).cache()
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
    assert df.select("customer_id").distinct().count() == 5_000


def test_a_positive_share_and_a_shift_are_what_was_asked(spark) -> None:
    # WHEN 5,000 rows are generated with 5 % positives and monthly charges moved up by 25
    plain = synthetic_churn(spark, 5_000, seed=7)
    asked = synthetic_churn(spark, 5_000, seed=7, positive_share=0.05, shift={"monthly_charges": 25.0})
    share, charges = asked.select(F.avg((F.col("churned") == "yes").cast("double")), F.avg("monthly_charges")).first()
    # THEN about 5 % churn and the charges moved by exactly the shift
    assert 0.04 < share < 0.06
    assert charges == pytest.approx(plain.select(F.avg("monthly_charges")).first()[0] + 25.0)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--shift", "region=3"], "--shift region: not a numeric column; shift one of age, tenure_months"),
        (["--shift", "monthly_charges"], "--shift monthly_charges: write COLUMN=AMOUNT, e.g. monthly_charges=20"),
        (["--positive-share", "5"], "--positive-share 5.0: give a share between 0 and 1, e.g. 0.05"),
    ],
)
def test_a_wrong_generate_option_is_one_line_naming_it(spark, tmp_path, capsys, arguments, message) -> None:
    # WHEN generate is given a wrong option THEN it exits 2 with one line naming it, and writes nothing
    assert main(["generate", "--rows", "100", "--output", str(tmp_path / "out"), *arguments]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert message in err[-1] and not (tmp_path / "out").exists()
