"""prepare's pure transforms, on three-row DataFrames with explicit schemas."""

from __future__ import annotations

import pytest
from chispa import assert_df_equality
from pyspark.sql.types import DoubleType, LongType, StringType, StructField, StructType

from speedrun.config import ColumnsConfig, LabelConfig
from speedrun.errors import SpeedrunError
from speedrun.prepare import REASON, ROW_KEY, clean, summarize, to_silver, trim_strings

COLUMNS = ColumnsConfig(label=LabelConfig(column="y", classes=["no", "yes"]), numeric=["x"], categorical=["c"])
RAW = StructType([StructField(n, StringType()) for n in ("x", "c", "y", "_source_file")])


def test_trim_strings_trims_and_blanks_become_missing(spark) -> None:
    # GIVEN raw strings with stray whitespace and a blank value
    df = spark.createDataFrame([(" 1.5 ", "  a", "yes ", "f.csv"), ("2", "   ", "no", "f.csv")], RAW)
    # WHEN strings are trimmed
    result = trim_strings(df)
    # THEN values are trimmed, blanks are null, metadata columns are left alone
    expected = spark.createDataFrame([("1.5", "a", "yes", "f.csv"), ("2", None, "no", "f.csv")], RAW)
    assert_df_equality(result, expected)


def test_clean_gives_each_bad_row_its_reasons(spark) -> None:
    # GIVEN a good row, a row with a non-number and an unknown label, a row without a label
    df = spark.createDataFrame(
        [("1.5", "a", "yes", "f.csv"), ("abc", "b", "maybe", "f.csv"), ("2", "a", None, "f.csv")], RAW
    )
    # WHEN rows are cleaned
    result = clean(df, COLUMNS).select("x", REASON)
    # THEN every bad row says why, and a good row has no reason
    expected = spark.createDataFrame(
        [
            ("1.5", None),
            ("abc", "x: not a number; y: label is not one of no, yes"),
            ("2", "y: label is missing"),
        ],
        StructType([StructField("x", StringType()), StructField(REASON, StringType())]),
    )
    assert_df_equality(result, expected, ignore_nullable=True)


def test_row_key_depends_on_content_only(spark) -> None:
    # GIVEN the same row twice and a different row
    df = spark.createDataFrame(
        [("1", "a", "no", "f1.csv"), ("1", "a", "no", "f2.csv"), ("2", "a", "no", "f1.csv")], RAW
    )
    # WHEN keyed
    keys = [r[ROW_KEY] for r in clean(df, COLUMNS).collect()]
    # THEN identical content gives the same key (whichever file it came from), other content another key
    assert keys[0] == keys[1] != keys[2]


def test_to_silver_casts_numbers_and_indexes_the_label(spark) -> None:
    df = spark.createDataFrame([("1.5", "a", "yes", "f.csv"), (None, "b", "no", "f.csv")], RAW)
    result = to_silver(clean(df, COLUMNS), COLUMNS).drop(ROW_KEY)
    expected = spark.createDataFrame(
        [(1.5, "a", 1.0, "f.csv"), (None, "b", 0.0, "f.csv")],
        StructType(
            [
                StructField("x", DoubleType()),
                StructField("c", StringType()),
                StructField("label", DoubleType()),
                StructField("_source_file", StringType()),
            ]
        ),
    )
    assert_df_equality(result, expected, ignore_nullable=True)


def test_summarize_counts_every_row_once(spark) -> None:
    df = spark.createDataFrame(
        [("1", "a", "yes", "f"), ("2", "a", "no", "f"), ("x", "a", "no", "f"), ("3", "a", None, "f")], RAW
    )
    result = summarize(clean(df, COLUMNS), COLUMNS)
    assert (result.accepted, result.quarantined) == (2, 2)
    assert result.reasons == {"x: not a number": 1, "y: label is missing": 1}


def test_summarize_rejects_a_single_class(spark) -> None:
    df = spark.createDataFrame([("1", "a", "no", "f"), ("2", "a", "no", "f")], RAW)
    with pytest.raises(SpeedrunError, match=r"label column y has a single class \('no'\)"):
        summarize(clean(df, COLUMNS), COLUMNS)


def test_summarize_rejects_when_nothing_is_left(spark) -> None:
    df = spark.createDataFrame([("x", "a", "no", "f"), ("y", "a", "no", "f")], RAW)
    with pytest.raises(SpeedrunError, match=r"no rows left after cleaning: x: not a number \(2 rows\)"):
        summarize(clean(df, COLUMNS), COLUMNS)


def test_key_is_a_long(spark) -> None:
    df = spark.createDataFrame([("1", "a", "no", "f")], RAW)
    assert clean(df, COLUMNS).schema[ROW_KEY].dataType == LongType()
