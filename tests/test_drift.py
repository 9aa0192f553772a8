"""Drift of a scored batch from the training rows: each feature's profile on the training rows, the batch in the
same bins, and the population stability index per feature."""

from __future__ import annotations

import json
import math

import pytest

from speedrun.cli import main
from speedrun.config import DriftConfig
from speedrun.edges.arrivals import arrivals
from speedrun.edges.profiles import kept_profile
from speedrun.edges.registry import registered_model
from speedrun.edges.tables import Tables
from speedrun.errors import SpeedrunError
from speedrun.transforms.batch_drift import Drift, batch_drift, shift_error
from speedrun.transforms.contract import Contract
from speedrun.transforms.drift import MISSING, UNSEEN, bin_label, profiled_rows, stability_index, training_profile

CONTRACT = Contract(numeric=["amount"], categorical=["plan"], classes=["no", "yes"])
SCHEMA = "amount double, plan string"


@pytest.fixture(scope="module")
def profile(spark):
    """The profile of 1,000 training rows: amounts 0..999 (one missing), plans a (3 in 4) and b (1 in 4)."""
    rows = [(float(i) if i != 500 else None, "a" if i % 4 else "b") for i in range(1000)]
    return training_profile(spark.createDataFrame(rows, SCHEMA), CONTRACT, bins=4)


def test_a_number_is_profiled_in_quantile_bins_and_a_category_by_its_values(profile) -> None:
    # THEN the amounts' inner edges are their quartiles, each bin holding a quarter, the missing value its own bin
    assert profile["amount"]["kind"] == "numeric"
    assert profile["amount"]["edges"] == [249.0, 499.0, 750.0]
    assert profile["amount"]["shares"] == pytest.approx({"0": 0.25, "1": 0.25, "2": 0.25, "3": 0.249, MISSING: 0.001})
    # AND the plans by value
    assert profile["plan"] == {"kind": "categorical", "shares": {"a": 0.75, "b": 0.25}}


def test_the_stability_index_is_zero_for_the_same_shares_and_grows_with_the_shift() -> None:
    same = {"0": 0.5, "1": 0.5}
    assert stability_index(same, same) == 0.0
    moved = stability_index(same, {"0": 0.3, "1": 0.7})
    assert moved == pytest.approx(-0.2 * math.log(0.3 / 0.5) + 0.2 * math.log(0.7 / 0.5))
    assert stability_index(same, {"0": 0.1, "1": 0.9}) > moved


def test_a_batch_like_the_training_rows_does_not_drift_and_a_shifted_one_does(spark, profile) -> None:
    # GIVEN a batch drawn like the training rows, and one whose amounts moved up by 400 and with an unseen plan
    like = spark.createDataFrame([(float(i), "a" if i % 4 else "b") for i in range(1, 1000, 3)], SCHEMA)
    shifted = spark.createDataFrame([(float(i + 400), "a" if i % 4 else "c") for i in range(1000)], SCHEMA)
    settings = DriftConfig()
    # WHEN each is compared with the training profile
    calm = {r["feature"]: r for r in batch_drift(like, 333, profile, settings).rows}
    moved = {r["feature"]: r for r in batch_drift(shifted, 1000, profile, settings).rows}
    # THEN the first is under the warning level on every feature
    assert all(r["psi"] < settings.warn for r in calm.values())
    # AND the second is above the failing level on both, the unseen plan's share said
    assert moved["amount"]["psi"] > settings.fail and moved["plan"]["psi"] > settings.fail
    assert moved["plan"]["unseen_share"] == 0.25 and calm["plan"]["unseen_share"] == 0.0
    bins = {b["bin"]: b for b in json.loads(moved["amount"]["bins"])}
    assert bins["> 750"] == pytest.approx({"bin": "> 750", "training": 0.249, "batch": 0.649})
    assert {b["bin"] for b in json.loads(moved["plan"]["bins"])} == {"a", "b", UNSEEN}


def test_a_number_bin_is_named_by_its_range() -> None:
    edges = [1.5, 20.0]
    assert [bin_label(b, edges) for b in ("0", "1", "2", MISSING)] == ["<= 1.5", "1.5 - 20", "> 20", MISSING]
    assert bin_label("x", None) == "x"


def drift_of(**psi: float) -> Drift:
    rows = [{"feature": f, "psi": v, "unseen_share": 0.0, "bins": "[]", "kind": "numeric"} for f, v in psi.items()]
    return Drift(rows, DriftConfig(warn=0.1, fail=0.25), scored=1000)


def test_one_line_says_which_features_moved() -> None:
    assert drift_of(age=0.02, charges=0.05).line() == "drift: none above 0.1 (largest PSI charges 0.050)"
    assert drift_of(age=0.02, charges=0.15, calls=0.4).line() == "drift: PSI above 0.1 on calls 0.400, charges 0.150"


def test_a_shift_above_the_failing_level_fails_the_scoring_task_naming_the_features() -> None:
    assert shift_error(drift_of(age=0.02, charges=0.2).rows, 0.25, "churn_drift") is None  # moved, not shifted
    error = shift_error(drift_of(age=0.02, charges=0.3).rows, 0.25, "churn_drift")
    assert isinstance(error, SpeedrunError) and str(error) == (
        "scored batch drifted from the training rows above scoring.drift.fail = 0.25: charges (PSI 0.300); "
        "predictions and drift rows are written (churn_drift)"
    )
    assert shift_error(drift_of(charges=9.0).rows, None, "churn_drift") is None


def test_a_batch_with_too_few_rows_for_a_psi_is_not_measured_and_says_so(spark, profile) -> None:
    # GIVEN a batch of 3 rows, under scoring.drift.min_rows (200)
    tiny = spark.createDataFrame([(1.0, "a"), (2.0, "b"), (3.0, "a")], SCHEMA)
    # WHEN its drift is asked for THEN none is measured (no Spark job), and its line says why
    drift = batch_drift(tiny, 3, profile, DriftConfig())
    assert (drift.measured, drift.rows) == (False, [])
    assert drift.line() == "drift: not measured on 3 rows (a PSI needs scoring.drift.min_rows = 200)"
    assert shift_error(drift.rows, 0.25, "churn_drift") is None


def test_many_training_rows_are_profiled_from_a_seeded_sample(spark) -> None:
    # GIVEN 1,000 rows said to stand for 10^7 (a sample of 2 %) and for 1,000
    rows = spark.range(1000).withColumnRenamed("id", "amount")
    # WHEN profiled THEN the many are sampled to about PROFILED_ROWS in proportion, the same rows each time
    sampled = profiled_rows(rows, 10**7)
    assert 5 < sampled.count() < 50 and sampled.collect() == profiled_rows(rows, 10**7).collect()
    assert profiled_rows(rows, 1000) is rows


def test_the_drift_verdict_before_any_batch_was_scored_says_to_score_first(spark, tmp_path, capsys) -> None:
    # GIVEN a work folder where nothing was scored yet
    settings = ["--set", f"storage.work_dir={tmp_path}"]
    # WHEN the drift verdict of a batch is asked for THEN it exits 2 with one line saying what to run first
    assert main(["drift", "--batch-id", "2026-11-30", *settings]) == 2
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line == (
        f"speedrun drift: error: no batch was scored yet ({tmp_path}/warehouse/speedrun/churn_predictions): "
        "run `speedrun score`"
    )


@pytest.mark.parametrize(
    ("command", "line"),
    [
        (
            ["score", "--arrived", "--batch-id", "b1"],
            "speedrun score: error: give --batch-id or --arrived, not both: with --arrived each folder names its batch",
        ),
        (
            ["drift"],
            "speedrun drift: error: give --batch-id (one scored batch) or --arrived (the batches score --arrived "
            "scored)",
        ),
    ],
)
def test_a_batch_named_twice_or_not_at_all_is_one_line(spark, tmp_path, capsys, command, line) -> None:
    # GIVEN a work folder WHEN a scoring command names its batch both ways, or the verdict names none
    code = main([*command, "--set", f"storage.work_dir={tmp_path}"])
    # THEN it exits 2 with one line saying how to name it
    assert code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == line


@pytest.mark.parametrize(
    ("files", "line"),
    [
        ({"day 1/a.csv": "x\n"}, "batch folder {in}/day 1: batch id 'day 1' may hold only letters, digits and _"),
        ({"a.csv": "x\n", "day-1/b.csv": "x\n"}, "{in} holds a.csv outside a batch folder: put each batch's files in"),
        ({}, "{in}/none: --arrived needs a local or /Volumes folder of batch folders"),
    ],
)  # fmt: skip
def test_a_scoring_folder_that_is_not_one_of_batch_folders_is_one_line(tmp_path, files, line) -> None:
    # GIVEN a scoring folder with a batch folder whose name is no batch id, a file outside any batch, or none
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    # WHEN the batches that arrived there are listed THEN the line names what is wrong and where
    with pytest.raises(SpeedrunError) as raised:
        arrivals(str(tmp_path / "none") if not files else str(tmp_path))
    assert str(raised.value).startswith(line.format(**{"in": tmp_path})), str(raised.value)


def test_the_training_rows_are_profiled_once_per_silver_commit(spark, trained) -> None:
    # GIVEN the shared run, whose registered model carries its training rows' profile
    cfg, evaluation = trained
    silver, bins = evaluation.report["inputs"]["silver"], cfg.scoring.drift.bins
    logged = registered_model(cfg, "1").profile

    def profiled_again() -> dict:
        raise AssertionError("the same rows were profiled again")

    # WHEN a later run on the same silver commit asks for the profile
    kept = kept_profile(spark, Tables(cfg), silver, bins, profiled_again)
    # THEN it is the one the run made, read back
    assert kept == logged
    # AND with another number of bins the rows are profiled again
    assert kept_profile(spark, Tables(cfg), silver, bins + 1, lambda: {"age": {}}) == {"age": {}}
