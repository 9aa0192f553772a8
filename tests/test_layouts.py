"""Raw files whose layouts differ, read as they are meant: values in their own columns whatever the order of a
file's header, compressed files and byte-order marks read as before, records with quoted line breaks whole; or
one line naming the file at fault. Read only (no table is written): the rows bronze would get."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql.types import StringType, StructField, StructType
from tests_support import csv_config, write

from speedrun.edges.layout import ends_inside_quotes, quoted_line_break
from speedrun.edges.raw import read_source
from speedrun.errors import SpeedrunError
from speedrun.transforms.cleaning import clean, with_reject_reason
from speedrun.transforms.columns import REASON, SOURCE_FILE
from speedrun.transforms.contract import Contract

COLUMNS = ["customer_id", "age", "plan", "spend", "churned"]
SCHEMA = StructType([StructField(c, StringType()) for c in [*COLUMNS, "_corrupt_record"]])


def read(spark, tmp_path: Path, *overrides: str):
    cfg = csv_config(tmp_path, str(tmp_path / "raw"), "columns={id: null, label: {column: churned}}", *overrides)
    return read_source(spark, cfg.source, cfg.source.path).drop("_source_file")


def test_files_whose_headers_list_the_columns_in_another_order_are_aligned_by_name(spark, tmp_path: Path) -> None:
    # GIVEN a.csv and b.csv of one source, b.csv's spend and age in each other's places
    write(tmp_path / "raw" / "a.csv", "customer_id,age,plan,spend,churned\n1,30,basic,10.5,yes\n")
    write(tmp_path / "raw" / "b.csv", "customer_id,spend,plan,age,churned\n2,199.47,pro,80,no\n")
    # WHEN the source is read
    rows = read(spark, tmp_path)
    # THEN every value is in its own column, in the first file's order
    expected = spark.createDataFrame(
        [("1", "30", "basic", "10.5", "yes", None), ("2", "80", "pro", "199.47", "no", None)], SCHEMA
    )
    assert_df_equality(rows, expected, ignore_row_order=True)


@pytest.mark.parametrize(
    ("header", "said"),
    [
        ("customer_id,age,plan,spend,churned,region", "b.csv has an extra region"),
        ("customer_id,age,plan,churned", "b.csv has no spend"),
        ("customer_id,age,plan,spend,spend,churned", "b.csv has repeated columns (spend)"),
    ],
)
def test_a_file_with_an_extra_or_a_missing_column_is_named(spark, tmp_path: Path, header: str, said: str) -> None:
    # GIVEN a second file whose columns are not the first file's
    first = write(tmp_path / "raw" / "a.csv", "customer_id,age,plan,spend,churned\n1,30,basic,10.5,yes\n")
    second = write(tmp_path / "raw" / "b.csv", f"{header}\n" + ",".join("1" * len(header.split(","))) + "\n")
    # WHEN the source is read THEN one line names the file, its columns, the first file's and how they differ
    with pytest.raises(SpeedrunError) as failed:
        read(spark, tmp_path)
    assert str(failed.value).startswith(f"{second} has columns {header.replace(',', ', ')}; {first} has ")
    assert f"({said}): files of one source (source.path) need the same columns, in any order" in str(failed.value)


def test_a_gzip_file_and_a_file_with_a_byte_order_mark_are_read(spark, tmp_path: Path) -> None:
    # GIVEN a gzip-compressed CSV and a UTF-8 CSV that starts with a byte-order mark
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "a.csv.gz").write_bytes(gzip.compress(b"customer_id,age,plan,spend,churned\n1,30,b,1.5,yes\n"))
    (tmp_path / "raw" / "b.csv").write_bytes(b"\xef\xbb\xbfcustomer_id,plan,age,spend,churned\n2,p,40,2.5,no\n")
    # WHEN the source is read
    rows = read(spark, tmp_path)
    # THEN both are read, under the names as written (no mark in the first one)
    expected = spark.createDataFrame(
        [("1", "30", "b", "1.5", "yes", None), ("2", "40", "p", "2.5", "no", None)], SCHEMA
    )
    assert_df_equality(rows, expected, ignore_row_order=True)


def test_quoted_line_breaks_are_found_and_the_file_read_as_records(spark, tmp_path: Path, capsys) -> None:
    # GIVEN 40 records, 4 of them with a line break inside a quoted value, and source.multiline left false
    plans = ["two\nlines" if i % 10 == 3 else "one" for i in range(40)]
    body = "".join(f'{i},{20 + i},"{plan}",{i}.5,{"ny"[i % 2]}\n' for i, plan in enumerate(plans))
    source = write(tmp_path / "raw" / "a.csv", "customer_id,age,plan,spend,churned\n" + body)
    # WHEN the source is read
    rows = read(spark, tmp_path)
    # THEN every record is one row, whole, and a line names the file, the line and the setting
    read_rows = rows.collect()
    assert len(read_rows) == 40
    assert [r for r in read_rows if r["_corrupt_record"] is not None] == []
    assert sorted(r.plan for r in read_rows if r.plan != "one") == ["two\nlines"] * 4
    assert (
        f"{source} line 5: a quoted value holds a line break; reading source.path as records "
        "(set source.multiline: true to say so)" in capsys.readouterr().err
    )


@pytest.mark.parametrize(
    ("line", "inside"),
    [
        ('1,"two', True),
        ('1,"a ""quoted"" word', True),
        ('1,"a \\" quote', True),
        ('1,"closed ""twice""",x', False),
        ("1,5'11\",x", False),  # a quote inside an unquoted value is a character
        ('lines",5,y', False),  # the second half of a broken record
    ],
)
def test_a_line_ends_inside_quotes_only_when_a_quoted_value_is_open(line: str, inside: bool) -> None:
    assert ends_inside_quotes(line, ",", '"', "\\") is inside


def test_a_file_without_a_broken_record_has_no_quoted_line_break(tmp_path: Path, make_config) -> None:
    # GIVEN quotes in values that open and close on their lines, and an inch sign in an unquoted value
    source = write(tmp_path / "a.csv", 'x,y\n"a, b",1\n5\'11",2\n"say ""hi""",3\n')
    # WHEN the file is scanned THEN no line is named
    assert quoted_line_break(source, make_config().source) is None


def test_parquet_files_with_other_columns_are_named(spark, tmp_path: Path) -> None:
    # GIVEN two Parquet files of one source, the second without `spend`
    spark.createDataFrame([(1, 2.5)], "customer_id int, spend double").write.parquet(str(tmp_path / "raw" / "a"))
    spark.createDataFrame([(2,)], "customer_id int").write.parquet(str(tmp_path / "raw" / "b"))
    # WHEN the source is read THEN one line names the second file and the column it lacks
    with pytest.raises(
        SpeedrunError, match=r"raw/b/part-[^ ]+ has columns customer_id; .* \(part-[^ ]+ has no spend\)"
    ):
        read(spark, tmp_path, "source.format=parquet")


def test_a_column_named_as_one_speedrun_adds_is_named(spark, tmp_path: Path) -> None:
    # GIVEN a file with a column named `_split`, the name of the column that holds each row's split
    write(tmp_path / "raw" / "a.csv", "customer_id,_split,churned\n1,a,yes\n")
    # WHEN it is read THEN one line names the file and the column, and asks for another name
    with pytest.raises(SpeedrunError, match=r"raw/a\.csv \(source.path\) has a column named _split, a name speedrun"):
        read(spark, tmp_path)


def test_each_bad_row_of_a_file_gets_its_reason_and_its_file(spark, tmp_path: Path) -> None:
    # GIVEN a CSV with good rows, a line with too many fields, a non-number, a missing label
    good = "".join(f"{i},{'ab'[i % 2]},{'yn'[i % 3 == 0]}\n" for i in range(20))
    source = write(tmp_path / "raw" / "d.csv", "x,c,y\n" + good + "1,a,y,EXTRA\nseven,a,n\n3,b,\n")
    cfg = csv_config(tmp_path, source, "columns.numeric=[x]", "columns.label.classes=[n, y]")
    contract = Contract(numeric=["x"], categorical=["c"], classes=["n", "y"])
    # WHEN it is read and its rows tagged as prepare tags them
    rows = read_source(spark, cfg.source, source).transform(lambda df: clean(df, cfg.columns))
    tagged = with_reject_reason(rows, contract, "y").collect()  # every column: Spark's CSV reader finds a line
    # with too many fields only when all columns are read
    # THEN every row is there, each bad one with its reason and file, the good ones with none
    assert len(tagged) == 23
    reasons = {r[REASON]: r[SOURCE_FILE] for r in tagged if r[REASON] is not None}
    assert set(reasons) == {"malformed line (wrong number of fields)", "x: not a number", "y: label is missing"}
    assert all(path.endswith("raw/d.csv") for path in reasons.values())
