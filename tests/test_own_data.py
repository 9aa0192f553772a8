"""Bring your own data: the shipped examples train from their configs alone; bad input is a clear error or a
quarantined row, never a lost one."""

from __future__ import annotations

from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F
from tests_support import ROOT, alone, csv_config, write

from speedrun.config import load_config
from speedrun.context import RunContext
from speedrun.edges.raw import generate
from speedrun.edges.tables import Tables, read_split
from speedrun.errors import SpeedrunError
from speedrun.flow import run_pipeline
from speedrun.steps.ingest import ingest
from speedrun.steps.prepare import prepare
from speedrun.transforms.contract import contract_of

QUICK = {
    "adult": "{type: logistic_regression, max_iter: 30}",
    "flowers": "{type: random_forest, num_trees: 5}",
    "loans": "{type: gbt, max_iter: 5}",
}


def example(name: str, work_dir: Path, *overrides: str):
    return load_config(
        str(ROOT / "examples" / f"{name}.yml"), [f"storage.work_dir={work_dir}", f"model={QUICK[name]}", *overrides]
    )


@pytest.mark.e2e
def test_adult_headerless_csv_with_a_given_test_file(spark, tmp_path: Path, monkeypatch) -> None:
    # GIVEN the Adult-shaped example: no header, "?" for missing, test labels with a trailing dot
    monkeypatch.chdir(ROOT)
    cfg = example("adult", tmp_path)
    # WHEN it runs from its config alone
    evaluation = run_pipeline(spark, cfg)
    # THEN the test rows are exactly the test file's 400 rows, none quarantined (">50K." is ">50K")
    assert evaluation.report["rows"]["test"] == 400
    assert Tables(cfg).read(spark, "quarantine_test").count() == 0
    assert evaluation.report["confusion_matrix"]["labels"] == ["<=50K", ">50K"]
    assert evaluation.report["metrics"]["areaUnderROC"] > 0.65
    # AND "?" was read as missing, and the excluded column is no feature
    silver = Tables(cfg).read(spark, "silver")
    assert silver.where(F.col("workclass") == "?").count() == 0 and silver.where("workclass IS NULL").count() > 0
    assert "fnlwgt" not in contract_of(silver).features


@pytest.mark.e2e
def test_multiclass_dataset_trains_and_reports_per_class(spark, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    report = run_pipeline(spark, example("flowers", tmp_path)).report
    assert report["confusion_matrix"]["labels"] == ["setosa", "versicolor", "virginica"]
    assert {"accuracy", "f1", "precision", "recall"} <= set(report["metrics"])
    assert "areaUnderROC" not in report["metrics"]
    assert set(report["per_class"]) == {"setosa", "versicolor", "virginica"}
    assert report["metrics"]["accuracy"] > 0.6


@pytest.mark.e2e
def test_parquet_with_an_id_column(spark, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    cfg = example("loans", tmp_path)
    report = run_pipeline(spark, cfg).report
    contract = contract_of(read_split(spark, cfg, "train"))
    assert contract.id == "loan_id" and "loan_id" not in contract.features
    assert "term_months" in contract.categorical and "income" in contract.numeric
    assert sum(report["rows"].values()) == 1000


@pytest.mark.e2e
def test_too_many_bad_rows_fail_the_run_and_leave_the_tables(spark, tmp_path: Path) -> None:
    # GIVEN a good prepare, then a source where most labels are unknown
    source = write(tmp_path / "raw" / "d.csv", "x,y\n" + "".join(f"{i},{'ab'[i % 2]}\n" for i in range(10)))
    cfg = csv_config(tmp_path, source, "columns.label.classes=[a, b]")
    alone(ingest, spark, cfg)
    alone(prepare, spark, cfg)
    tables = Tables(cfg)
    silver_version = tables.version(spark, "silver")
    write(tmp_path / "raw" / "d.csv", "x,y\n" + "".join(f"{i},{'abcd'[i % 4]}\n" for i in range(10)))
    alone(ingest, spark, cfg)
    # WHEN prepare runs THEN it fails with the fraction and the top reason, and silver is untouched
    with pytest.raises(
        SpeedrunError,
        match=r"40\.0% of rows failed cleaning, more than prepare\.max_quarantined_"
        r"fraction = 0\.1: y: label is not one of a, b \(4 rows\)",
    ):
        alone(prepare, spark, cfg)
    assert tables.version(spark, "silver") == silver_version


def test_a_failed_write_leaves_the_table_at_its_last_good_version(spark, tmp_path: Path) -> None:
    # GIVEN a table with one good version
    cfg = csv_config(tmp_path, "unused")
    tables = Tables(cfg)
    tables.write(spark.range(5), "bronze")
    # WHEN a write fails halfway through its rows
    boom = F.when(F.col("id") == 63, F.raise_error(F.lit("row 63 cannot be written"))).otherwise(F.col("id"))
    with pytest.raises(Exception, match="row 63 cannot be written"):
        tables.write(spark.range(100).withColumn("boom", boom), "bronze")
    # THEN the table still holds its last good version, and the next write succeeds
    assert (tables.version(spark, "bronze"), tables.read(spark, "bronze").count()) == (0, 5)
    assert tables.write(spark.range(7), "bronze").rows == 7


@pytest.mark.e2e
def test_tables_written_together_each_get_one_commit_and_a_failure_leaves_its_table(spark, tmp_path: Path) -> None:
    # GIVEN two tables with one good version each
    cfg = csv_config(tmp_path, "unused")
    tables = Tables(cfg)
    with RunContext(spark, cfg) as ctx:
        ctx.write_all({"silver": spark.range(5), "quarantine": spark.range(2)})
    # WHEN both are written together again, with lineage
    lineage = {"bronze": 3}
    with RunContext(spark, cfg) as ctx:
        ctx.write_all({"silver": spark.range(6), "quarantine": spark.range(0)}, lineage)
        commits = [ctx.commit("silver"), ctx.commit("quarantine")]
    # THEN each got one new commit, with its rows and lineage
    assert [(c.version, c.rows, c.lineage) for c in commits] == [(1, 6, lineage), (1, 0, lineage)]
    # WHEN one of two writes made together fails halfway through its rows
    explode = F.udf(lambda i: 1 // (i - 3), "int")
    with pytest.raises(Exception, match=r"ZeroDivisionError|division by zero"), RunContext(spark, cfg) as ctx:
        ctx.write_all({"silver": spark.range(100).withColumn("boom", explode("id")), "quarantine": spark.range(9)})
    # THEN the failed table is at its last good version, and the other one was written
    assert (tables.version(spark, "silver"), tables.read(spark, "silver").count()) == (1, 6)
    assert (tables.version(spark, "quarantine"), tables.read(spark, "quarantine").count()) == (2, 9)


@pytest.mark.e2e
def test_a_record_put_again_replaces_its_row_and_may_bring_new_columns(spark, tmp_path: Path) -> None:
    # GIVEN a runs table with two records, one of them with a quote in its key
    tables = Tables(csv_config(tmp_path, "unused"))
    for run_id, rows in (("a", 1), ("it's", 2)):
        tables.upsert(
            spark.createDataFrame([(run_id, rows)], "run_id string, rows long"), "training_runs", "run_id", run_id
        )
    # WHEN a record is put again, with a column the table does not have yet
    again = spark.createDataFrame([("it's", 3, "v2")], "run_id string, rows long, target string")
    tables.upsert(again, "training_runs", "run_id", "it's")
    # THEN its row is replaced, the other kept, and the table has the new column
    expected = spark.createDataFrame([("a", 1, None), ("it's", 3, "v2")], "run_id string, rows long, target string")
    assert_df_equality(tables.read(spark, "training_runs"), expected, ignore_row_order=True)


@pytest.mark.e2e
def test_a_new_record_is_appended_without_a_search_for_rows_to_replace(spark, tmp_path: Path) -> None:
    # GIVEN a runs table with a record
    tables = Tables(csv_config(tmp_path, "unused"))
    tables.upsert(spark.createDataFrame([("a", 1)], "run_id string, rows long"), "training_runs", "run_id", "a")
    # WHEN the record of a run id made up by this process is put, with a new column
    fresh = spark.createDataFrame([("b", 2, "v2")], "run_id string, rows long, target string")
    tables.upsert(fresh, "training_runs", "run_id", "b", new=True)
    # THEN it was appended in one commit (no overwrite), next to the other record, and the column added
    last = spark.sql(f"DESCRIBE HISTORY delta.`{tables.location('training_runs')}` LIMIT 1").first()
    assert (last["operation"], last["operationParameters"]["mode"]) == ("WRITE", "Append")
    expected = spark.createDataFrame([("a", 1, None), ("b", 2, "v2")], "run_id string, rows long, target string")
    assert_df_equality(tables.read(spark, "training_runs"), expected, ignore_row_order=True)


@pytest.mark.e2e
def test_replacing_a_batch_again_counts_the_rows_it_wrote(spark, tmp_path: Path) -> None:
    # GIVEN a table with a batch of 4 rows, another of 2 and an empty one
    tables = Tables(csv_config(tmp_path, "unused"))
    batch = lambda rows, name: spark.range(rows).withColumn("batch_id", F.lit(name))  # noqa: E731
    written = [
        tables.replace(batch(n, b), "predictions", f"batch_id = '{b}'") for n, b in ((4, "a"), (2, "b"), (0, "c"))
    ]
    assert written == [4, 2, 0]
    # WHEN batch a is replaced, twice, by 3 rows THEN each replacement counts 3, and the table holds 3 + 2
    assert [tables.replace(batch(3, "a"), "predictions", "batch_id = 'a'") for _ in range(2)] == [3, 3]
    assert tables.read(spark, "predictions").count() == 5


@pytest.mark.e2e
def test_a_generated_source_with_a_given_test_file_is_ingested(spark, tmp_path: Path, make_config) -> None:
    # GIVEN a training source still to be generated, and a given test file
    generate(spark, 20, 11, str(tmp_path / "given_test"))
    cfg = make_config("source.generate_if_missing.rows=50", f"test_source={{path: {tmp_path / 'given_test'}}}")
    # WHEN it is ingested
    alone(ingest, spark, cfg)
    # THEN the training rows were generated before the columns of both were compared, and both tables written
    tables = Tables(cfg)
    assert (tables.read(spark, "bronze").count(), tables.read(spark, "bronze_test").count()) == (50, 20)


def test_an_empty_glob_is_named(spark, tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    cfg = csv_config(tmp_path, f"{tmp_path}/in/*.csv")
    with pytest.raises(SpeedrunError, match=r"source not found: .*/in/\*\.csv \(source\.path\): no file matches"):
        alone(ingest, spark, cfg)


def test_a_test_file_with_other_columns_is_named(spark, tmp_path: Path) -> None:
    train = write(tmp_path / "train.csv", "x,c,y\n1,a,y\n2,b,n\n")
    test = write(tmp_path / "test.csv", "x,colour,y\n1,a,y\n")
    cfg = csv_config(tmp_path, train, f"test_source={{path: {test}}}")
    with pytest.raises(
        SpeedrunError,
        match=r"the test file's columns differ from the training file's: .*test\.csv "
        r"has x, colour, y; expected x, c, y",
    ):
        alone(ingest, spark, cfg)


def test_header_less_csv_needs_column_names() -> None:
    with pytest.raises(SpeedrunError, match="source: a CSV source without a header needs column_names"):
        load_config("default", ["source.header=false"])


def test_column_names_that_could_reach_sql_are_refused() -> None:
    with pytest.raises(SpeedrunError, match=r"columns\.numeric: 'a`; DROP' is not a usable column name"):
        load_config("default", ["columns.numeric=['a`; DROP']"])
