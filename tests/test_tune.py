"""`speedrun tune`: candidates scored on validation in one session, the best kept, reproducible anywhere."""

from __future__ import annotations

import json
from importlib.metadata import distribution
from pathlib import Path

import mlflow
import pytest
from conftest import small_config
from tests_support import alone, csv_config, write

from speedrun.context import RunOptions
from speedrun.edges.tables import Tables
from speedrun.edges.tracking import experiment_name, tracking_uri
from speedrun.flow import run_pipeline
from speedrun.steps.replay import replay
from speedrun.steps.score import score

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("spark-submit")]


def leaderboard(report_path: str) -> dict:
    return json.loads((Path(report_path).parent / "leaderboard.json").read_text())


def test_tune_keeps_the_best_candidate_on_validation_and_records_each(spark, tuned) -> None:
    # GIVEN a config with a search of three candidates WHEN it is tuned (the standalone cluster's one-core
    # spark-submit run scores every candidate the same: test_standalone_cluster)
    cfg, evaluation = tuned
    # THEN every candidate is on the leaderboard, best first, and the best is the run's model
    board = leaderboard(evaluation.report_path)
    scores = [c["areaUnderROC"] for c in board["candidates"]]
    assert board["metric"] == "areaUnderROC" and len(scores) == 3 and scores == sorted(scores, reverse=True)
    winner = board["candidates"][0]
    assert evaluation.report["model"]["type"] == winner["model"]
    run = Tables(cfg).read(spark, "training_runs").first()
    assert run["model_type"] == winner["model"]
    assert json.loads(run["validation_metrics"])["areaUnderROC"] == winner["areaUnderROC"]
    assert "Leaderboard (validation)" in Path(evaluation.report_path).read_text()
    # AND each candidate is an MLflow child run of the training run, with its parameters, metrics and time
    mlflow.set_tracking_uri(tracking_uri(cfg))
    children = mlflow.search_runs(
        experiment_names=[experiment_name(cfg)],
        filter_string=f"tags.mlflow.parentRunId = '{run['mlflow_run_id']}'",
        output_format="list",
    )
    assert len(children) == 3
    assert all({"validation_areaUnderROC", "seconds"} <= set(c.data.metrics) for c in children)


def test_xgboost_on_three_classes_is_registered_and_scores_new_rows(spark, tmp_path: Path) -> None:
    # GIVEN a CSV whose label has three classes, and xgboost as the model
    body = "".join(f"{i % 11},{'abc'[i % 3]},{'pqr'[(i // 2) % 3]}\n" for i in range(300))
    source = write(tmp_path / "raw" / "d.csv", "x,c,y\n" + body)
    cfg = csv_config(tmp_path, source, "model={type: xgboost, n_estimators: 10, max_depth: 3}")
    # WHEN it is run, and the registered model (from MLflow) scores the file
    evaluation = run_pipeline(spark, cfg)
    result = alone(score, spark, cfg, input_path=source, batch_id="three", version="1")
    # THEN the run is an xgboost run, and every row gets a class and a probability for each of the three
    assert evaluation.report["model"]["type"] == "xgboost"
    assert result.scored == 300
    predicted = Tables(cfg).read(spark, "predictions").first()
    assert predicted["predicted_class"] in ("p", "q", "r") and set(predicted["probabilities"]) == {"p", "q", "r"}
    # AND the registered model says what loading it needs: xgboost with pyspark
    mlflow.set_tracking_uri(tracking_uri(cfg))
    needs = Path(mlflow.pyfunc.get_model_dependencies(evaluation.report["model"]["path"])).read_text().split()
    names = {n.split("==")[0] for n in needs}
    assert "pyspark" in names
    assert any("xgboost/__init__.py" in {str(f) for f in distribution(n).files or []} for n in names)


def test_a_budget_leaves_the_later_candidates_out_and_the_leaderboard_says_why(spark, tmp_path: Path) -> None:
    # GIVEN a search of three candidates, one of which stops early on validation, and a budget already spent
    # by the preprocessing
    search = (
        "search={parallel: 1, candidates: [{type: xgboost, n_estimators: 200, learning_rate: 0.5,"
        " early_stopping_rounds: 3}, {type: logistic_regression, reg_param: [0.01, 0.1]}]}"
    )
    cfg = small_config(tmp_path, search)
    # WHEN it is tuned with a budget of a millisecond
    evaluation = run_pipeline(spark, cfg, RunOptions(tune=True, budget=0.001))
    # THEN the first candidate ran (the first always does), stopping early at a round it names, and the two
    # others are on the leaderboard as not tried for the budget
    board = leaderboard(evaluation.report_path)
    [tried] = board["candidates"]
    assert tried["model"] == "xgboost" and 1 <= tried["rounds"] < 200
    assert tried["stopped"] == f"early stopping at round {tried['rounds']} of 200"
    assert [(r["candidate"], r["stopped"]) for r in board["not_tried"]] == [
        (2, "not tried: the budget of 0.001s was spent"),
        (3, "not tried: the budget of 0.001s was spent"),
    ]
    assert "not tried: the budget of 0.001s was spent" in Path(evaluation.report_path).read_text()


def test_a_tuned_winner_that_stopped_early_replays_exactly(spark, tmp_path: Path) -> None:
    # GIVEN a search whose best candidate is an xgboost that stops early on the validation rows
    search = (
        "search={candidates: [{type: logistic_regression, max_iter: 1},"
        " {type: xgboost, n_estimators: 300, learning_rate: 0.3, early_stopping_rounds: 5}]}"
    )
    cfg = small_config(tmp_path, search)
    # WHEN it is tuned, then replayed
    evaluation = run_pipeline(spark, cfg, RunOptions(tune=True))
    result = alone(replay, spark, cfg, evaluation.report["run_id"])
    # THEN the winner stopped before its last round, and its refit (tune fitted it beside the shapes' cached
    # validation rows, replay as `speedrun run` fits it) gives the same metrics, exactly
    [winner] = [c for c in leaderboard(evaluation.report_path)["candidates"] if c["rank"] == 1]
    assert winner["model"] == "xgboost" and winner["rounds"] < 300
    metrics = evaluation.report["metrics"]
    assert result.differences == [] and {k: result.replayed[k] for k in metrics} == metrics
