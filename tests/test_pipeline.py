"""The whole training pipeline on a small generated dataset, on local Spark with real Delta tables."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from chispa import assert_df_equality
from tests_support import alone

from speedrun.cli import main
from speedrun.config import METRICS
from speedrun.edges.tables import Tables
from speedrun.errors import SpeedrunError
from speedrun.steps.ingest import ingest
from speedrun.steps.prepare import prepare
from speedrun.transforms.synthetic import synthetic_churn


def test_run_writes_every_table_and_sane_metrics(spark, trained, tmp_path: Path) -> None:
    # GIVEN the default config on 3,000 generated rows, run end to end
    cfg, evaluation = trained
    # THEN bronze holds every raw row; silver + quarantine hold every bronze row
    tables = Tables(cfg)
    count = {role: tables.read(spark, role).count() for role in ("bronze", "quarantine")}
    silver = tables.read(spark, "silver")
    count |= {r["_split"]: r["count"] for r in silver.groupBy("_split").count().collect()}
    count["silver"] = count["train"] + count["validation"] + count["test"]
    assert count["bronze"] == 3000
    assert count["silver"] + count["quarantine"] == count["bronze"]
    # AND train + validation + test = the prepared rows (each row has one split), each row once
    assert silver.count() == count["silver"] == silver.select("_row_key").distinct().count()
    # AND the metrics file names the run, the model, the metrics and the row counts
    report = json.loads(Path(evaluation.metrics_path).read_text())
    assert report["model"]["type"] == "logistic_regression"
    assert report["rows"] == {"train": count["train"], "validation": count["validation"], "test": count["test"]}
    assert 0.7 < report["metrics"]["areaUnderROC"] <= 1.0
    assert set(report["metrics"]) >= set(METRICS)
    assert sum(map(sum, report["confusion_matrix"]["rows_actual_columns_predicted"])) == count["test"]
    # AND the metrics table has the run's row
    assert tables.read(spark, "metrics").where(f"run_id = '{report['run_id']}'").count() == 1


def test_metrics_out_writes_the_json_where_asked(trained) -> None:
    # GIVEN the shared run, asked for its metrics JSON in a folder of its own (`--metrics-out`)
    cfg, first = trained
    # THEN the JSON is there, with the run's metrics
    out = Path(cfg.storage.work_dir) / "elsewhere" / "m.json"
    assert json.loads(out.read_text())["metrics"] == first.report["metrics"]


@pytest.mark.e2e
def test_ingest_twice_leaves_the_same_table(spark, tmp_path: Path, make_config) -> None:
    # GIVEN a source ingested once
    cfg = make_config("source.generate_if_missing.rows=200")
    tables = Tables(cfg)
    alone(ingest, spark, cfg)
    first = tables.read(spark, "bronze").drop("_ingested_at")
    first_rows = first.collect()
    # WHEN it is ingested again
    alone(ingest, spark, cfg)
    # THEN the table holds the same rows, not twice as many
    assert_df_equality(
        tables.read(spark, "bronze").drop("_ingested_at"),
        spark.createDataFrame(first_rows, first.schema),
        ignore_row_order=True,
    )


def test_missing_source_is_named(spark, tmp_path: Path, make_config) -> None:
    cfg = make_config("source.generate_if_missing=null", "source.path=nowhere/*.csv")
    with pytest.raises(SpeedrunError, match=r"source not found: .*nowhere/\*\.csv \(source\.path\)"):
        alone(ingest, spark, cfg)


@pytest.mark.e2e
def test_a_failed_ingest_leaves_the_table_at_its_last_good_version(spark, tmp_path: Path, make_config) -> None:
    # GIVEN a bronze table from a good ingest
    cfg = make_config("source.generate_if_missing.rows=100")
    tables = Tables(cfg)
    alone(ingest, spark, cfg)
    version = tables.version(spark, "bronze")
    # WHEN the next ingest reads a source without the label column
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "part.csv").write_text("customer_id,age\nC1,30\n")
    with pytest.raises(SpeedrunError, match="column"):
        alone(ingest, spark, make_config(f"source.path={tmp_path}/bad", "source.generate_if_missing=null"))
    # THEN bronze is untouched
    assert tables.version(spark, "bronze") == version
    assert tables.read(spark, "bronze").count() == 100


def test_generate_command_writes_the_rows_asked_for(spark, tmp_path: Path) -> None:
    # WHEN `speedrun generate` writes 500 rows
    assert main(["generate", "--rows", "500", "--seed", "3", "--output", str(tmp_path / "raw")]) == 0
    # THEN CSV files with a header hold exactly those rows
    assert spark.read.option("header", True).csv(str(tmp_path / "raw")).count() == 500


@pytest.mark.e2e
def test_parquet_source_is_ingested_and_prepared(spark, tmp_path: Path, make_config) -> None:
    # GIVEN the dataset as typed Parquet files
    synthetic_churn(spark, 400, seed=5).write.parquet(str(tmp_path / "pq"))
    cfg = make_config(f"source.path={tmp_path}/pq", "source.format=parquet", "source.generate_if_missing=null")
    # WHEN it is ingested and prepared
    assert alone(ingest, spark, cfg).rows == 400
    result = alone(prepare, spark, cfg)
    # THEN every row is accounted for
    assert result.accepted + result.quarantined == 400
