"""The model lifecycle against the local MLflow registry: train registers, validate sets `challenger`,
promote moves `champion`."""

from __future__ import annotations

import mlflow
import pytest

from speedrun.cli import main
from speedrun.errors import SpeedrunError
from speedrun.evaluate import evaluate
from speedrun.registry import CHALLENGER, CHAMPION, promote, validate, version_by_alias
from speedrun.tracking import registered_model_name, use_experiment
from speedrun.train import train

pytestmark = pytest.mark.slow


def aliases(cfg) -> dict[str, str | None]:
    use_experiment(cfg)
    name = registered_model_name(cfg)
    return {alias: version_by_alias(name, alias) for alias in (CHALLENGER, CHAMPION)}


def test_train_validate_promote(spark, trained, capsys) -> None:
    # GIVEN the shared run, which train registered as version 1
    cfg, first = trained
    assert aliases(cfg) == {CHALLENGER: None, CHAMPION: None}
    # WHEN it is validated (no champion yet) and promoted
    verdict = validate(spark, cfg, first.report["run_id"])
    assert verdict.passed and verdict.version == "1"
    assert promote(cfg) == "1"
    # THEN version 1 is challenger and champion
    assert aliases(cfg) == {CHALLENGER: "1", CHAMPION: "1"}

    # GIVEN a worse model (one iteration) trained and evaluated on the same tables: version 2
    worse = cfg.model_copy(update={"model": cfg.model.model_copy(update={"max_iter": 1})})
    run = train(spark, worse)
    evaluate(spark, worse, run.run_id)
    assert run.model_version == "2"
    # WHEN it is validated THEN it fails, naming the metric, its value and the champion's
    with pytest.raises(
        SpeedrunError,
        match=r"version 2 of .* failed validation: areaUnderROC 0\.\d{4} vs champion "
        r"0\.\d{4} \(min gain 0\)",
    ):
        validate(spark, worse, run.run_id)
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
    again = train(spark, cfg)
    evaluate(spark, cfg, again.run_id)
    # WHEN validated and promoted THEN it is champion, and the earlier versions stay registered
    assert validate(spark, cfg, again.run_id).passed
    assert promote(cfg) == "3"
    assert aliases(cfg) == {CHALLENGER: "3", CHAMPION: "3"}
    versions = {
        str(v.version) for v in mlflow.MlflowClient().search_model_versions(f"name='{registered_model_name(cfg)}'")
    }
    assert versions == {"1", "2", "3"}
