"""The model lifecycle against the local MLflow registry: train registers, validate sets `challenger`,
promote moves `champion`."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pytest
from tests_support import alone

from speedrun.cli import main
from speedrun.edges.registry import CHALLENGER, CHAMPION, version_by_alias
from speedrun.edges.tables import Tables
from speedrun.edges.tracking import registered_model_name, use_experiment
from speedrun.errors import SpeedrunError
from speedrun.flow import run_pipeline
from speedrun.steps.evaluate import evaluate
from speedrun.steps.lifecycle import promote, validate
from speedrun.steps.score import score
from speedrun.steps.train import train
from speedrun.transforms.synthetic import synthetic_churn

pytestmark = pytest.mark.e2e


def aliases(cfg) -> dict[str, str | None]:
    use_experiment(cfg)
    name = registered_model_name(cfg)
    return {alias: version_by_alias(name, alias) for alias in (CHALLENGER, CHAMPION)}


def test_validate_and_promote_move_the_aliases_and_the_champion_scores_once_per_batch(
    spark, make_config, capsys, monkeypatch
) -> None:
    # GIVEN a run of its own, which train registered as version 1
    cfg = make_config()
    first = run_pipeline(spark, cfg)
    assert aliases(cfg) == {CHALLENGER: None, CHAMPION: None}
    # WHEN it is validated (no champion yet) and promoted
    verdict = alone(validate, spark, cfg, run_id=first.report["run_id"])
    assert verdict.version == "1"
    assert len(verdict.checks) == len(cfg.validation.thresholds)  # each threshold, and no champion to compare
    assert not any("champion" in line for line in verdict.checks)
    assert alone(promote, None, cfg) == "1"
    # THEN version 1 is challenger and champion
    assert aliases(cfg) == {CHALLENGER: "1", CHAMPION: "1"}

    # GIVEN a worse model (one iteration) trained and evaluated on the same tables: version 2
    worse = cfg.model_copy(update={"model": cfg.model.model_copy(update={"max_iter": 1})})
    run = alone(train, spark, worse).record
    alone(evaluate, spark, worse, run_id=run.run_id)
    assert run.model_version == "2"
    # WHEN it is validated as the promotion job does, by the alias evaluate set on it (`--version candidate`)
    # THEN it fails, naming the metric, its value and the champion's
    with pytest.raises(
        SpeedrunError,
        match=r"version 2 of .* failed validation: areaUnderROC 0\.\d{4} vs champion "
        r"0\.\d{4} \(min gain 0\)",
    ):
        alone(validate, spark, worse, "candidate")
    # AND a threshold it misses is named with the threshold, on the command line too, in one line
    strict = [
        "--set",
        f"storage.work_dir={cfg.storage.work_dir}",
        "--set",
        "validation.thresholds={f1: 0.99}",
        "--set",
        "model={type: logistic_regression, max_iter: 1}",
    ]
    assert main(["validate", "--run-id", run.run_id, *strict]) == 2
    err = capsys.readouterr().err
    assert "failed validation: f1 0." in err and "(threshold 0.99)" in err
    assert aliases(cfg) == {CHALLENGER: "1", CHAMPION: "1"}

    # GIVEN the first config retrained: version 3, as good as the champion
    again = alone(train, spark, cfg).record
    alone(evaluate, spark, cfg, run_id=again.run_id)
    # WHEN validated and promoted THEN it is champion, and the earlier versions stay registered
    assert alone(validate, spark, cfg, run_id=again.run_id).version == "3"
    assert alone(promote, None, cfg) == "3"
    assert aliases(cfg) == {CHALLENGER: "3", CHAMPION: "3"}
    versions = {
        str(v.version) for v in mlflow.MlflowClient().search_model_versions(f"name='{registered_model_name(cfg)}'")
    }
    assert versions == {"1", "2", "3"}

    # GIVEN new data to score: 300 generated rows and one whose age is not a number
    new = Path(cfg.storage.work_dir) / "new"
    synthetic_churn(spark, 300, seed=55).drop("churned").coalesce(1).write.option("header", True).csv(str(new))
    (new / "bad.csv").write_text(
        "customer_id,age,tenure_months,contract,internet_service,monthly_charges,total_charges,support_calls,"
        "payment_method,region,signup_channel,satisfaction_score,web_visits\nX1,old,3,one-year,dsl,50,150,0,card,"
        "north,web,5,3\n"
    )
    # WHEN the champion scores it, twice, as the same batch
    first_scoring = alone(score, spark, cfg, str(new), batch_id="2026-11-26")
    monkeypatch.chdir(new.parent.parent)  # on the command line, --input is taken from where you are
    work = ["--set", f"storage.work_dir={cfg.storage.work_dir}", "--set", "model={type: logistic_regression}"]
    assert main(["score", "--input", f"{new.parent.name}/new", "--batch-id", "2026-11-26", *work]) == 0
    again = alone(score, spark, cfg, str(new), batch_id="2026-11-26")
    # THEN every row is scored or quarantined, once, by champion version 3
    assert (first_scoring.scored, first_scoring.quarantined) == (again.scored, again.quarantined) == (300, 1)
    table = Tables(cfg).read(spark, "predictions")
    assert table.count() == 300 and table.select("customer_id").distinct().count() == 300
    row = table.first()
    assert row["predicted_class"] in ("no", "yes") and abs(sum(row["probabilities"].values()) - 1) < 1e-9
    assert (row["model_name"], row["model_version"], row["batch_id"]) == (registered_model_name(cfg), "3", "2026-11-26")
    reasons = [r["_reject_reason"] for r in Tables(cfg).read(spark, "scoring_quarantine").collect()]
    assert reasons == ["age: not a number"]
