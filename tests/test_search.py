"""The candidates a search draws (pure, no Spark), and the one line tuning ends in when it cannot start."""

from __future__ import annotations

import pytest

from speedrun.config import load_config
from speedrun.config.search import SearchConfig, seconds
from speedrun.errors import SpeedrunError
from speedrun.transforms.search import draw_candidates, is_better
from speedrun.transforms.tuning import with_model


def test_a_grid_tries_every_combination_in_the_order_written() -> None:
    # GIVEN a search with two lists for xgboost and one for logistic regression
    search = SearchConfig(
        candidates=[
            {"type": "logistic_regression", "reg_param": [0.0, 0.1]},
            {"type": "xgboost", "max_depth": [3, 5], "learning_rate": [0.1, 0.3], "n_estimators": 50},
        ]
    )
    # WHEN its candidates are drawn THEN they are every combination, in order, and `trials` keeps the first n
    drawn = draw_candidates(search)
    assert [c.get("reg_param", c.get("max_depth")) for c in drawn] == [0.0, 0.1, 3, 3, 5, 5]
    assert drawn[3] == {"type": "xgboost", "max_depth": 3, "learning_rate": 0.3, "n_estimators": 50}
    assert len(draw_candidates(search.model_copy(update={"trials": 3}))) == 3


def test_a_random_search_draws_the_same_candidates_from_the_same_seed() -> None:
    # GIVEN a random search over ranges and lists
    spec = {
        "type": "xgboost",
        "max_depth": {"low": 2, "high": 8},
        "learning_rate": {"low": 0.01, "high": 0.3, "log": True},
    }
    search = SearchConfig(candidates=[spec], strategy="random", trials=6, seed=11)
    # WHEN drawn twice, and with another seed
    first, again = draw_candidates(search), draw_candidates(search)
    other = draw_candidates(search.model_copy(update={"seed": 12}))
    # THEN the same seed gives the same candidates, within their ranges; another seed others
    assert first == again and first != other
    assert all(2 <= c["max_depth"] <= 8 and isinstance(c["max_depth"], int) for c in first)
    assert all(0.01 <= c["learning_rate"] <= 0.3 for c in first)


def test_a_range_in_a_grid_and_a_wrong_parameter_are_one_line_each() -> None:
    ranged = SearchConfig(candidates=[{"type": "xgboost", "max_depth": {"low": 2, "high": 8}}])
    with pytest.raises(SpeedrunError, match=r"xgboost\.max_depth is a range, which needs strategy: random"):
        draw_candidates(ranged)
    wrong = SearchConfig(candidates=[{"type": "gbt", "max_depth": [3, 99]}])
    with pytest.raises(SpeedrunError, match=r"search candidate 2 \(.*\): max_depth: Input should be less than"):
        draw_candidates(wrong)


def test_a_search_section_is_checked_with_the_config() -> None:
    with pytest.raises(SpeedrunError, match=r"search\.metric: unknown metric auc; choose from areaUnderROC"):
        load_config("default", ["search={metric: auc}"])
    with pytest.raises(SpeedrunError, match=r"search\.budget: '5 minutes' is not a duration"):
        load_config("default", ["search={budget: 5 minutes}"])
    assert load_config("default", ["search={}"]).search.candidates[1]["type"] == "xgboost"
    assert (seconds("90s"), seconds("5m"), seconds("2")) == (90, 300, 2)


def test_ties_go_to_the_candidate_tried_first_and_log_loss_is_lower_better() -> None:
    assert not is_better(0.8, 0.8, "areaUnderROC")
    assert is_better(0.81, 0.8, "areaUnderROC") and is_better(0.3, 0.4, "logLoss")


def test_tuning_without_validation_rows_ends_in_one_line(spark) -> None:
    # GIVEN a split with no validation rows
    from speedrun.transforms.tuning import choose

    rows = {"train": spark.range(3), "validation": spark.range(0)}
    # WHEN it is tuned THEN one line says what to change
    with pytest.raises(SpeedrunError, match=r"^tuning needs validation rows: set split\.validation above 0$"):
        choose(load_config("default", ["search={}"]), rows)


def test_a_candidate_may_weigh_classes_which_goes_to_its_train_section() -> None:
    # GIVEN a grid over class weights
    search = SearchConfig(candidates=[{"type": "logistic_regression", "class_weight": ["none", "balanced"]}])
    # WHEN drawn THEN both are candidates, and a candidate's class_weight becomes its config's train.class_weight
    drawn = draw_candidates(search)
    assert [c["class_weight"] for c in drawn] == ["none", "balanced"]
    weighed = with_model(load_config("default"), drawn[1])
    assert (weighed.train.class_weight, weighed.model.type) == ("balanced", "logistic_regression")
    # AND a class weight that is not one is one line naming the candidate
    wrong = SearchConfig(candidates=[{"type": "logistic_regression", "class_weight": "heavy"}])
    with pytest.raises(SpeedrunError, match=r"^search candidate 1 \(.*\): class_weight: give balanced or none$"):
        draw_candidates(wrong)


@pytest.mark.parametrize(
    ("model", "key"),
    [
        ("{type: xgboost, early_stopping_rounds: 5}", "early_stopping_rounds"),
        ("{type: gbt, validation_tol: 0.01}", "validation_tol"),
    ],
)
def test_stopping_early_without_validation_rows_is_one_line_naming_the_key(spark, model: str, key: str) -> None:
    # GIVEN a model that stops early on validation, and no validation rows
    from speedrun.transforms.fit import fit

    cfg = load_config("default", [f"model={model}"])
    # WHEN it is fitted THEN one line names the key and what to change
    expected = (
        rf"^model\.{key}: stopping early needs validation rows: set split\.validation above 0, or remove the key$"
    )
    with pytest.raises(SpeedrunError, match=expected):
        fit(spark.range(3), cfg.model, cfg.features, cfg.train.partitions, validation=None)


def test_the_default_search_fits_xgboost_unweighted_when_a_threshold_decides_for_a_rare_class() -> None:
    # GIVEN the default search's candidates, and a run that weighs classes and chooses its threshold (init's
    # config for a rare class)
    from speedrun.config import TrainConfig
    from speedrun.transforms.search import adapted

    drawn = draw_candidates(SearchConfig())
    rare = TrainConfig(class_weight="balanced", threshold={"optimize": "f1"})
    # WHEN tune adapts them THEN xgboost is fitted unweighted, logistic regression as the run weighs
    weights = [(c["type"], c.get("class_weight")) for c in adapted(drawn, True, rare)]
    assert weights == [("logistic_regression", None)] * 3 + [("xgboost", "none")] * 4
    # AND a search of one's own, or a fixed threshold, keeps the run's weighing for every candidate
    assert all("class_weight" not in c for c in adapted(drawn, False, rare))
    fixed = TrainConfig(class_weight="balanced", threshold=0.5)
    assert all("class_weight" not in c for c in adapted(drawn, True, fixed))
