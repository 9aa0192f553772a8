"""Files real users have: values, layouts and formats that end in a trained model with every row accounted for,
or in one line naming what is at fault."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests_support import alone, csv_config, fit_with, write

from speedrun.edges.tables import Tables, read_split
from speedrun.errors import SpeedrunError
from speedrun.flow import run_pipeline
from speedrun.steps.ingest import ingest
from speedrun.steps.prepare import prepare
from speedrun.steps.split import split
from speedrun.transforms.contract import contract_of


def rows(n: int, line) -> str:
    return "".join(line(i) for i in range(n))


def test_a_feature_without_values_is_left_out_and_said(spark, tmp_path: Path, capsys) -> None:
    # GIVEN a numeric column empty in every row, and another holding only NaN
    body = rows(30, lambda i: f"{i},,NaN,{'ab'[i % 2]},{'yn'[i % 3 == 0]}\n")
    cfg = csv_config(tmp_path, write(tmp_path / "raw" / "d.csv", "x,empty,nan,c,y\n" + body))
    # WHEN it is prepared
    alone(ingest, spark, cfg)
    alone(prepare, spark, cfg)
    # THEN both are left out of the features, the contract names them, and prepare's line says so
    contract = contract_of(Tables(cfg).read(spark, "silver"))
    assert (contract.numeric, contract.categorical, contract.empty) == (["x"], ["c"], ["empty", "nan"])
    assert "(empty, nan left out: no values)" in capsys.readouterr().err


def test_a_csv_configured_as_parquet_is_named_in_one_line(spark, tmp_path: Path) -> None:
    source = write(tmp_path / "raw" / "d.csv", "x,y\n1,a\n2,b\n")
    cfg = csv_config(tmp_path, source, "source.format=parquet")
    with pytest.raises(SpeedrunError) as failed:
        alone(ingest, spark, cfg)
    assert str(failed.value) == (
        f"{source} is configured as parquet (source.format) but looks like CSV or other text "
        "(its first line: 'x,y'): set the format, or point source.path at the parquet files"
    )


def test_a_parquet_file_configured_as_csv_is_named(spark, tmp_path: Path) -> None:
    spark.createDataFrame([(1, "a")], "x int, y string").coalesce(1).write.parquet(str(tmp_path / "pq"))
    cfg = csv_config(tmp_path, str(tmp_path / "pq"))
    with pytest.raises(SpeedrunError, match=r"part-.*\.parquet is configured as csv \(source\.format\) but looks like"):
        alone(ingest, spark, cfg)


@pytest.mark.e2e
def test_trees_get_the_bins_a_wide_category_needs(spark, tmp_path: Path) -> None:
    # GIVEN a categorical feature with 41 values, more than the trees' default 32 bins
    body = rows(200, lambda i: f"{i % 7},country{i % 41},{'yn'[i % 3 == 0]}\n")
    source = write(tmp_path / "raw" / "d.csv", "x,c,y\n" + body)
    cfg = csv_config(tmp_path, source, "model={type: gbt, max_iter: 3}")
    alone(ingest, spark, cfg)
    alone(prepare, spark, cfg)
    # WHEN the trees are fitted with max_bins unset THEN they get bins for all 41 values and the unseen bucket
    model = fit_with(cfg, read_split(spark, cfg, "train"))
    assert model.stages[-1].getMaxBins() >= 42
    # AND with max_bins set too low, one line names the column and the bins it needs
    narrow = csv_config(tmp_path, source, "model={type: random_forest, num_trees: 2, max_bins: 16}")
    with pytest.raises(
        SpeedrunError, match=r"model\.max_bins = 16 is less than the \d+ values of categorical feature c"
    ):
        fit_with(narrow, read_split(spark, narrow, "train"))


def test_a_split_that_cannot_be_evaluated_stops_before_training(spark, tmp_path: Path) -> None:
    # GIVEN 60 rows of which 2 are positive, split 90/5/5
    body = rows(60, lambda i: f"{i},{'ab'[i % 2]},{'y' if i in (7, 40) else 'n'}\n")
    source = write(tmp_path / "raw" / "d.csv", "x,c,y\n" + body)
    cfg = csv_config(tmp_path, source, "split={train: 0.9, validation: 0.05, test: 0.05, seed: 1}")
    # WHEN it runs THEN it stops after the split, with each split's class counts and what to change
    with pytest.raises(
        SpeedrunError, match=r"the (test|validation) split cannot be evaluated: it holds .*train: n \d+"
    ):
        run_pipeline(spark, cfg)
    assert not Tables(cfg).exists(spark, "training_runs")
    # AND the split step alone says the same
    with pytest.raises(SpeedrunError, match=r"split cannot be evaluated: .* raise split\.(test|validation)"):
        alone(split, spark, cfg)
