"""prepare's pure transforms, on small DataFrames with explicit schemas."""

from __future__ import annotations

import pytest
from chispa import assert_df_equality
from pyspark.sql.types import DoubleType, IntegerType, LongType, StringType, StructField, StructType

from speedrun.config import ColumnsConfig, LabelConfig
from speedrun.errors import SpeedrunError
from speedrun.transforms.cleaning import accepted, clean, rejected, to_silver, trim_strings, with_reject_reason
from speedrun.transforms.columns import REASON, ROW_KEY
from speedrun.transforms.contract import (
    Contract,
    contract_of,
    declared_contract,
    infer_contract,
    valued,
    without_empty,
)
from speedrun.transforms.summary import summarize

COLUMNS = ColumnsConfig(label=LabelConfig(column="y", classes=["no", "yes"]), numeric=["x"], categorical=["c"])
CONTRACT = Contract(numeric=["x"], categorical=["c"], classes=["no", "yes"])
RAW = StructType([StructField(n, StringType()) for n in ("x", "c", "y", "_source_file")])


def tag(df):
    return with_reject_reason(clean(df, COLUMNS), CONTRACT, "y")


def test_trim_strings_trims_and_null_tokens_become_missing(spark) -> None:
    # GIVEN raw strings with stray whitespace, a blank value and a `?`
    df = spark.createDataFrame([(" 1.5 ", "  a", "yes ", "f.csv"), ("?", "   ", "no", "f.csv")], RAW)
    # WHEN strings are trimmed with `?` and empty as null tokens
    result = trim_strings(df, ["", "?"])
    # THEN values are trimmed, null tokens are null, metadata columns are left alone
    expected = spark.createDataFrame([("1.5", "a", "yes", "f.csv"), (None, None, "no", "f.csv")], RAW)
    assert_df_equality(result, expected)


def test_labels_lose_stray_quotes_and_trailing_dots(spark) -> None:
    df = spark.createDataFrame([("1", "a", "'yes.'", "f"), ("1", "a", ' "no" ', "f"), ("1", "a", "yes", "f")], RAW)
    assert [r["y"] for r in clean(df, COLUMNS).collect()] == ["yes", "no", "yes"]


def test_clean_gives_each_bad_row_its_reasons(spark) -> None:
    # GIVEN a good row, a row with a non-number and an unknown label, a row without a label
    df = spark.createDataFrame(
        [("1.5", "a", "yes", "f.csv"), ("abc", "b", "maybe", "f.csv"), ("2", "a", None, "f.csv")], RAW
    )
    # WHEN rows are cleaned and checked
    result = tag(df).select("x", REASON)
    # THEN every bad row says why, and a good row has no reason
    expected = spark.createDataFrame(
        [("1.5", None), ("abc", "x: not a number; y: label is not one of no, yes"), ("2", "y: label is missing")],
        StructType([StructField("x", StringType()), StructField(REASON, StringType())]),
    )
    assert_df_equality(result, expected, ignore_nullable=True)


def test_good_and_bad_rows_are_filtered_on_their_reason_computed_once(spark) -> None:
    # GIVEN a good row and a row with a non-number
    df = spark.createDataFrame([(" 1.5", "a", "yes", "f.csv"), ("abc", "b", "no", "f.csv")], RAW)
    # WHEN the accepted and the rejected rows are taken
    good, bad = accepted(tag(df)), rejected(tag(df))
    # THEN each holds its own rows
    assert [(r["x"], r[REASON]) for r in good.collect()] == [("1.5", None)]
    assert [(r["x"], r[REASON]) for r in bad.collect()] == [("abc", "x: not a number")]
    # AND the filter reads the reason computed from the cleaned values, not the cleaning inlined on raw columns
    plan = good._jdf.queryExecution().optimizedPlan().toString().splitlines()
    assert [line for line in plan if "Filter" in line] == [
        line for line in plan if "Filter isnull(_reject_reason" in line
    ]
    assert not any("trim(" in line for line in plan if "Filter" in line)


def test_row_key_depends_on_content_only(spark) -> None:
    # GIVEN the same row twice and a different row
    df = spark.createDataFrame(
        [("1", "a", "no", "f1.csv"), ("1", "a", "no", "f2.csv"), ("2", "a", "no", "f1.csv")], RAW
    )
    # WHEN keyed
    keys = [r[ROW_KEY] for r in clean(df, COLUMNS).collect()]
    # THEN identical content gives the same key (whichever file it came from), other content another key
    assert keys[0] == keys[1] != keys[2]
    assert clean(df, COLUMNS).schema[ROW_KEY].dataType == LongType()


def test_to_silver_casts_numbers_and_indexes_the_label_carrying_the_contract(spark) -> None:
    df = spark.createDataFrame([("1.5", "a", "yes", "f.csv"), (None, "b", "no", "f.csv")], RAW)
    # WHEN they go to silver (a given test file's rows: every row is test)
    result = to_silver(clean(df, COLUMNS), CONTRACT, "y")
    # THEN numbers are doubles, the label its class index, and the split is a column
    expected = spark.createDataFrame(
        [(1.5, "a", 1.0, "f.csv", "test"), (None, "b", 0.0, "f.csv", "test")],
        StructType(
            [
                StructField("x", DoubleType()),
                StructField("c", StringType()),
                StructField("_label", DoubleType()),
                StructField("_source_file", StringType()),
                StructField("_split", StringType()),
            ]
        ),
    )
    assert_df_equality(result.drop(ROW_KEY), expected, ignore_nullable=True, ignore_metadata=True)
    assert contract_of(result) == CONTRACT


def test_a_feature_named_label_keeps_its_name_beside_the_class_index(spark) -> None:
    # GIVEN a numeric feature named `label`, and the label column `y`
    raw = StructType([StructField(n, StringType()) for n in ("label", "y", "_source_file")])
    df = spark.createDataFrame([("2.5", "yes", "f.csv"), ("4", "no", "f.csv")], raw)
    contract = Contract(numeric=["label"], categorical=[], classes=["no", "yes"])
    columns = ColumnsConfig(label=LabelConfig(column="y", classes=["no", "yes"]), numeric=["label"])
    # WHEN the rows go to silver
    result = to_silver(clean(df, columns), contract, "y")
    # THEN the feature keeps its name and values, and the class index is speedrun's own column
    assert [(r["label"], r["_label"]) for r in result.collect()] == [(2.5, 1.0), (4.0, 0.0)]


def test_contract_infers_types_and_classes(spark) -> None:
    # GIVEN a numeric-looking column, a text column, an integer column, an id and numeric labels 1/2
    schema = StructType(
        [
            StructField("n", StringType()),
            StructField("t", StringType()),
            StructField("i", IntegerType()),
            StructField("rid", StringType()),
            StructField("y", StringType()),
        ]
    )
    df = spark.createDataFrame(
        [("1.5", "a", 3, "r1", "2"), (None, "7", 4, "r2", "1"), ("-2", "b", None, "r3", "2")], schema
    )
    columns = ColumnsConfig(label=LabelConfig(column="y", positive="1"), id="rid")
    # WHEN the contract is inferred
    contract = infer_contract(df, columns)
    # THEN numbers are numeric, text is categorical, the id is no feature, and the positive class comes last
    assert contract == Contract(numeric=["n", "i"], categorical=["t"], classes=["2", "1"], id="rid")


def test_contract_rejects_a_label_with_one_class(spark) -> None:
    df = spark.createDataFrame([("1", "a", "no", "f"), ("2", "a", "no", "f")], RAW)
    with pytest.raises(SpeedrunError, match=r"label column y has a single class \('no'\) in the training data"):
        infer_contract(df, ColumnsConfig(label=LabelConfig(column="y")))


def test_summarize_counts_every_row_once(spark) -> None:
    df = spark.createDataFrame(
        [("1", "a", "yes", "f"), ("2", "a", "no", "f"), ("x", "a", "no", "f"), ("3", "a", None, "f")], RAW
    )
    result = summarize(tag(df), "y")
    assert (result.accepted, result.quarantined) == (2, 2)
    assert result.reasons == {"x: not a number": 1, "y: label is missing": 1}


def test_a_whole_declared_contract_is_taken_as_declared_and_its_empty_features_counted_with_the_rows(spark) -> None:
    # GIVEN rows whose every feature and class the config declares, and a category that is only ever missing
    df = spark.createDataFrame([("1", None, "yes", "f"), ("2", None, "no", "f"), ("x", "a", "no", "f")], RAW)
    # WHEN the contract is taken from the config and the rows are counted
    declared = declared_contract(clean(df, COLUMNS), COLUMNS)
    result = summarize(tag(df), "y", valued=valued(clean(df, COLUMNS), declared))
    # THEN nothing is inferred; the accepted rows' values say c has none, and it is left out
    assert declared == CONTRACT
    assert result.values == {"x": 2, "c": 0}
    assert without_empty(declared, result.values) == Contract(["x"], [], ["no", "yes"], empty=["c"])
    # AND a contract the config leaves partly to infer is not declared
    untyped = ColumnsConfig(label=LabelConfig(column="y", classes=["no", "yes"]), numeric=["x"])
    assert declared_contract(clean(df, untyped), untyped) is None
    unlisted = ColumnsConfig(label=LabelConfig(column="y"), numeric=["x"], categorical=["c"])
    assert declared_contract(clean(df, unlisted), unlisted) is None


def test_no_feature_left_with_a_value_is_one_line_naming_them() -> None:
    with pytest.raises(SpeedrunError, match=r"^no feature columns are left \(x, c have no values\): check columns"):
        without_empty(CONTRACT, {"x": 0, "c": 0})


def test_summarize_rejects_too_many_quarantined_rows(spark) -> None:
    df = spark.createDataFrame(
        [("1", "a", "yes", "f"), ("2", "a", "no", "f"), ("x", "a", "no", "f"), ("3", "a", None, "f")], RAW
    )
    with pytest.raises(
        SpeedrunError,
        match=r"50\.0% of rows failed cleaning, more than "
        r"prepare\.max_quarantined_fraction = 0\.1: x: not a number \(1 rows\)",
    ):
        summarize(tag(df), "y", max_quarantined=0.1)


def test_summarize_rejects_a_single_class(spark) -> None:
    df = spark.createDataFrame([("1", "a", "no", "f"), ("2", "a", "no", "f")], RAW)
    with pytest.raises(SpeedrunError, match=r"label column y has a single class \('no'\)"):
        summarize(tag(df), "y")


def test_summarize_rejects_when_nothing_is_left(spark) -> None:
    df = spark.createDataFrame([("x", "a", "no", "f"), ("y", "a", "no", "f")], RAW)
    with pytest.raises(SpeedrunError, match=r"no rows left after cleaning: x: not a number \(2 rows\)"):
        summarize(tag(df), "y")


def test_a_malformed_line_with_an_unbalanced_quote_names_the_multiline_setting(spark) -> None:
    # GIVEN two malformed lines (as a remote source read line by line keeps them), one with an unbalanced quote
    schema = StructType([*RAW.fields, StructField("_corrupt_record", StringType())])
    df = spark.createDataFrame([(None, None, None, "f", '1,"two'), (None, None, None, "f", "1,2,3,4")], schema)
    # WHEN their reasons are given
    reasons = [r[REASON] for r in tag(df).collect()]
    # THEN the half record's reason names source.multiline, the other's says what is wrong
    assert reasons[0].startswith("malformed line (wrong number of fields; an unbalanced quote: half of a quoted")
    assert "set source.multiline: true" in reasons[0]
    assert reasons[1].startswith("malformed line (wrong number of fields)")
