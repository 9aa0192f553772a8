"""Imbalanced labels and drift, from the config alone: on churn data with 5 % positives, balanced class weights
and a threshold chosen on the validation rows lift the positive class's F1 without moving the AUC; the threshold
and the training profile are kept with the registered model, scoring predicts at that threshold, and a batch
shifted on one feature is flagged on that feature alone."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pytest
from pyspark.sql import functions as F
from tests_support import alone

from speedrun.edges.logged_model import load_model
from speedrun.edges.tables import Tables, read_split
from speedrun.edges.tracking import registered_model_name, use_experiment
from speedrun.errors import SpeedrunError
from speedrun.flow import run_pipeline
from speedrun.steps.score import score
from speedrun.transforms.decision import choose_threshold, curve_of
from speedrun.transforms.metrics import outcome_counts
from speedrun.transforms.synthetic import synthetic_churn

pytestmark = pytest.mark.e2e


def csv(spark, folder: Path, rows: int, seed: int, label: bool = True, **options) -> str:
    data = synthetic_churn(spark, rows, seed, positive_share=0.05, **options)
    (data if label else data.drop("churned")).coalesce(1).write.option("header", True).csv(str(folder))
    return str(folder)


def threshold_on(model, rows, cfg) -> float:
    """The threshold the run's objective would choose on `rows`."""
    counts = outcome_counts(model.transform(rows), True)
    return choose_threshold(curve_of(counts), cfg.train.threshold).threshold


def test_weights_and_a_threshold_chosen_on_validation_lift_f1_and_drift_flags_the_shifted_feature(
    spark, make_config, tmp_path: Path
) -> None:
    # GIVEN churn data with 5 % positives: 20,000 training rows and a given test file of 5,000
    data = [
        "source.generate_if_missing=null",
        f"source.path={csv(spark, tmp_path / 'train', 20_000, 7)}",
        f"test_source={{path: {csv(spark, tmp_path / 'test', 5_000, 11)}}}",
    ]
    plain = make_config(*data, "tracking.enabled=false")
    weighed = make_config(*data, "train.class_weight=balanced", "train.threshold={optimize: f1}")
    # WHEN the model is trained as it is, then with balanced weights and a threshold chosen for F1
    before = run_pipeline(spark, plain).report
    after = run_pipeline(spark, weighed).report
    # THEN the positive class's F1 on the test rows is at least 0.10 higher, the AUC the same within 0.005
    assert after["metrics"]["f1"] >= before["metrics"]["f1"] + 0.10
    assert abs(after["metrics"]["areaUnderROC"] - before["metrics"]["areaUnderROC"]) <= 0.005
    # AND the threshold is the one chosen on the validation rows, not on the given test file's
    threshold, model = after["threshold"], load_model(after["model"]["path"])
    assert before["threshold"] is None and 0 < threshold < 1
    assert threshold == threshold_on(model, read_split(spark, weighed, "validation"), weighed)
    assert threshold != threshold_on(model, read_split(spark, weighed, "test"), weighed)
    # AND the run records it with its class weights, and the registered model keeps it with the profile
    run = Tables(weighed).read(spark, "training_runs").where(F.col("run_id") == after["run_id"]).first()
    assert run["threshold"] == threshold
    assert json.loads(run["class_weights"]) == pytest.approx({"no": 0.526, "yes": 10.0}, rel=0.05)
    use_experiment(weighed)
    kept = mlflow.models.get_model_info(f"models:/{registered_model_name(weighed)}/1").metadata
    assert kept["speedrun_threshold"] == threshold
    assert set(kept["speedrun_profile"]) == set(kept["speedrun_contract"]["numeric"]) | set(
        kept["speedrun_contract"]["categorical"]
    )

    # GIVEN two new batches: one like the training rows, one whose monthly charges moved up by 25
    like = csv(spark, tmp_path / "like", 2_000, 21, label=False)
    moved = csv(spark, tmp_path / "moved", 2_000, 22, label=False, shift={"monthly_charges": 25.0})
    # WHEN version 1 scores them
    calm = alone(score, spark, weighed, like, batch_id="like", version="1")
    with pytest.raises(SpeedrunError) as failed:
        alone(score, spark, weighed, moved, batch_id="moved", version="1")
    # THEN the first batch drifted on no feature, and its predicted class is the threshold's
    assert calm.drift.above(weighed.scoring.drift.warn) == []
    predictions = Tables(weighed).read(spark, "predictions").where(F.col("batch_id") == "like")
    chosen = predictions.where((F.col("probabilities")["yes"] >= threshold) != (F.col("predicted_class") == "yes"))
    assert predictions.count() == 2_000 and chosen.count() == 0
    # AND the shifted batch failed its task naming monthly_charges alone, after its predictions and drift rows
    assert "above scoring.drift.fail = 0.25: monthly_charges (PSI " in str(failed.value)
    drift = Tables(weighed).read(spark, "drift")
    flagged = {r["feature"] for r in drift.where("batch_id = 'moved' AND psi > 0.1").collect()}
    assert flagged == {"monthly_charges"}
    assert drift.where("batch_id = 'like'").count() == drift.where("batch_id = 'moved'").count() == 12
    assert Tables(weighed).read(spark, "predictions").where(F.col("batch_id") == "moved").count() == 2_000
    assert (Path(weighed.storage.work_dir) / "scoring" / weighed.name / "drift.html").is_file()
