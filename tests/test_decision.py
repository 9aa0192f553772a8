"""The two-class decision: balanced class weights from the training rows, and the threshold an objective
chooses on the validation rows' outcome counts."""

from __future__ import annotations

import pyarrow as pa
import pytest
from chispa import assert_df_equality
from pyspark.ml.linalg import Vectors
from pyspark.sql import Row
from pyspark.sql.types import DoubleType, StructField, StructType

from speedrun.config import TrainConfig, load_config
from speedrun.config.decisions import ThresholdObjective
from speedrun.errors import SpeedrunError
from speedrun.transforms.decision import (
    balanced_weights,
    choose_threshold,
    curve_of,
    decided,
    no_positive_predicted,
    threshold_for,
    with_weights,
)
from speedrun.transforms.metrics import metrics_of

# five positives and six negatives by probability of the positive class, as `outcome_counts` gives them:
# at P >= 0.9 precision 1, recall 0.6 (F1 0.75); >= 0.8: 0.75, 0.6; >= 0.6: 0.8, 0.8 (F1 0.8, the best);
# >= 0.3: 0.4, 0.8; >= 0.2: 5/11, 1. A threshold chosen at a probability is set midway to the next lower one
# (0.6 -> 0.45): the same decisions on these rows, with room for rows not seen
OUTCOMES = [(1, 0.9, 3), (0, 0.8, 1), (1, 0.6, 1), (0, 0.3, 5), (1, 0.2, 1)]


def counts(outcomes=OUTCOMES) -> pa.Table:
    return pa.table(
        {
            "label": [label for label, _, _ in outcomes],
            "predicted": [int(p >= 0.5) for _, p, _ in outcomes],
            "score": [p for _, p, _ in outcomes],
            "probability": [p for _, p, _ in outcomes],
            "n": [n for _, _, n in outcomes],
        }
    )


def test_balanced_weights_make_each_class_weigh_the_same_in_total() -> None:
    # GIVEN 90 rows of class 0 and 10 of class 1 WHEN weighed THEN n / (classes * n_class)
    weights = balanced_weights({0: 90, 1: 10})
    assert weights == pytest.approx({0: 100 / 180, 1: 5.0})
    assert 90 * weights[0] == pytest.approx(10 * weights[1])


def test_each_training_row_carries_its_class_weight(spark) -> None:
    # GIVEN three rows of two classes WHEN weighed THEN each row's weight is its class's
    rows = spark.createDataFrame([(0.0,), (1.0,), (0.0,)], "_label double")
    expected = spark.createDataFrame(
        [(0.0, 0.75), (1.0, 1.5), (0.0, 0.75)],
        StructType([StructField("_label", DoubleType()), StructField("_weight", DoubleType())]),
    )
    assert_df_equality(with_weights(rows, {0: 0.75, 1: 1.5}), expected, ignore_nullable=True)
    assert with_weights(rows, None) is rows


@pytest.mark.parametrize(
    ("objective", "threshold", "reached"),
    [
        ({"optimize": "f1"}, 0.45, True),
        ({"recall_at_precision": 0.9}, 0.85, True),
        ({"recall_at_precision": 0.75}, 0.45, True),
        ({"precision_at_recall": 1.0}, 0.2, True),  # the lowest probability seen: itself
        ({"precision_at_recall": 0.7}, 0.45, True),
    ],
)
def test_an_objective_chooses_its_threshold_on_the_curve(objective, threshold, reached) -> None:
    # GIVEN the outcome counts above WHEN the objective chooses THEN the threshold is the one worked out by hand
    choice = choose_threshold(curve_of(counts()), ThresholdObjective(**objective))
    assert (choice.threshold, choice.reached) == (pytest.approx(threshold), reached)


def test_a_precision_never_reached_takes_the_best_one_and_says_so() -> None:
    # GIVEN rows whose most probable one is a negative: precision never reaches 0.9
    outcomes = [(0, 0.95, 1), (1, 0.9, 2), (0, 0.5, 3), (1, 0.4, 1)]
    train = TrainConfig(threshold={"recall_at_precision": 0.9})
    # WHEN the threshold is chosen THEN it is the one of the best precision (2 of 3, midway from 0.9 to 0.5), and
    # the note says so, and that three positive rows are too few to be sure of it
    threshold, note = threshold_for(counts(outcomes), 2, train)
    assert threshold == pytest.approx(0.7)
    assert note == (
        "threshold 0.7000 chosen on validation (recall_at_precision 0.9, not reached on validation: the nearest); "
        "only 3 positive rows on validation: a threshold chosen on so few may not hold on new rows "
        "(raise split.validation, or fix train.threshold)"
    )


def test_on_few_positives_f1_chooses_the_threshold_that_holds_over_resamples_of_the_rows() -> None:
    # GIVEN five positives: three at 0.9, then four negatives at 0.5, then two positives at 0.15; the single best
    # F1 on these rows is at 0.9 (0.75; predicting every row positive: 0.714)
    outcomes = [(1, 0.9, 3), (0, 0.5, 4), (1, 0.15, 2)]
    curve = curve_of(counts(outcomes))
    assert list(curve.f1.round(3)) == [0.75, 0.5, 0.714]
    # WHEN F1 chooses THEN over resamples of the rows every row positive holds better: the threshold is 0.15
    assert choose_threshold(curve, ThresholdObjective(optimize="f1")).threshold == 0.15
    assert (
        list(curve.resampled_f1().round(2)) == [0.72, 0.5, 0.72] and curve.resampled_f1()[2] > curve.resampled_f1()[0]
    )
    # AND with as many positives as SURE_POSITIVES the rows' own best F1 decides (midway from 0.9 to 0.5)
    many = [(1, 0.9, 3 * 10), (0, 0.5, 4 * 10), (1, 0.15, 2 * 10)]
    assert choose_threshold(curve_of(counts(many)), ThresholdObjective(optimize="f1")).threshold == pytest.approx(0.7)


def test_a_test_split_where_no_row_reached_the_threshold_is_a_line() -> None:
    # GIVEN confusion matrices (rows: actual, columns: predicted) WHEN no positive was predicted THEN a line says so
    assert no_positive_predicted([[90, 0], [6, 0]], 0.97) == (
        "no test row reached the threshold 0.9700: none of the 6 positive rows was predicted positive (F1 0); "
        "lower train.threshold, or give validation more positive rows"
    )
    assert no_positive_predicted([[90, 0], [6, 0]], None).startswith("no test row reached the classifier's 0.5:")
    # AND nothing when one was, when there is no positive row, or for more classes
    assert no_positive_predicted([[90, 1], [6, 0]], 0.97) == no_positive_predicted([[96, 0], [0, 0]], 0.5) == ""
    assert no_positive_predicted([[1, 0, 0], [1, 0, 0], [1, 0, 0]], None) == ""


def test_class_metrics_follow_the_threshold_and_the_areas_do_not() -> None:
    # GIVEN the counts, at the classifier's own 0.5 and at 0.6 and 0.2
    own = metrics_of(counts(), 2)[0]
    at_06, matrix_06 = metrics_of(counts(), 2, 0.6)
    at_02, matrix_02 = metrics_of(counts(), 2, 0.2)
    # THEN precision and recall are those of the curve at each threshold, and the areas are the same
    assert (at_06["precision"], at_06["recall"]) == pytest.approx((0.8, 0.8))
    assert matrix_06 == [[5, 1], [1, 4]] and matrix_02 == [[0, 6], [0, 5]]
    assert (at_02["precision"], at_02["recall"]) == pytest.approx((5 / 11, 1.0))
    for metrics in (at_06, at_02):
        assert (metrics["areaUnderROC"], metrics["areaUnderPR"]) == (own["areaUnderROC"], own["areaUnderPR"])


def test_a_fixed_threshold_and_the_default_need_no_choice() -> None:
    assert threshold_for(counts(), 2, TrainConfig()) == (None, "")
    assert threshold_for(counts(), 2, TrainConfig(threshold=0.3)) == (0.3, "threshold 0.3 (fixed)")


def test_a_threshold_for_three_classes_or_without_validation_rows_is_refused() -> None:
    train = TrainConfig(threshold={"optimize": "f1"})
    with pytest.raises(SpeedrunError, match=r"^train.threshold applies to two classes; the label has 3: remove it$"):
        threshold_for(counts(), 3, train)
    with pytest.raises(SpeedrunError, match=r"no validation rows to choose the threshold on; raise split.validation"):
        threshold_for(counts([]), 2, train)


def test_scoring_predicts_the_positive_class_from_the_threshold_on(spark) -> None:
    # GIVEN three scored rows, the classifier's prediction at 0.5
    rows = [Row(_probability=Vectors.dense([1 - p, p]), _prediction=float(p > 0.5)) for p in (0.2, 0.3, 0.7)]
    predictions = spark.createDataFrame(rows)
    # WHEN decided at 0.3 THEN P >= 0.3 is the positive class; the probabilities are unchanged
    out = decided(predictions, 0.3).collect()
    assert [r["_prediction"] for r in out] == [0.0, 1.0, 1.0]
    assert [r["_probability"] for r in out] == [r["_probability"] for r in rows]
    assert decided(predictions, None) is predictions


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("train.threshold=1.5", "train.threshold: a number between 0 and 1, or one of {optimize: f1}"),
        ("train.threshold={optimize: f2}", "(Input should be 'f1')"),
        ("train.threshold={optimize: f1, recall_at_precision: 0.9}", "(give one of optimize: f1, recall_at_"),
        ("train.class_weight=heavy", "train.class_weight: Input should be 'balanced' or 'none'"),
        ("scoring.drift={warn: 0.3, fail: 0.2}", "scoring.drift: fail (0.2) must not be below warn (0.3)"),
    ],
)
def test_a_wrong_decision_setting_is_one_line_naming_its_key(override: str, message: str) -> None:
    with pytest.raises(SpeedrunError) as error:
        load_config("default", [override])
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_threshold_objective_needs_validation_rows() -> None:
    no_validation = ["train.threshold={optimize: f1}", "split={train: 0.8, validation: 0, test: 0.2}"]
    with pytest.raises(SpeedrunError, match=r"\): train.threshold: an objective chooses the threshold on the valid"):
        load_config("default", no_validation)
