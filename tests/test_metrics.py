"""Metrics from a confusion matrix, and exact, repeatable areas under the curves."""

from __future__ import annotations

import pytest
from pyspark.ml.evaluation import BinaryClassificationEvaluator
from pyspark.ml.linalg import Vectors
from pyspark.sql import Row

from speedrun.transforms.metrics import (
    areas_under_curves,
    classification_metrics,
    outcome_counts,
    scores_from_confusion,
)


def test_binary_scores_are_those_of_the_positive_class() -> None:
    # GIVEN 50 true negatives, 10 false positives, 5 false negatives, 35 true positives
    scores = scores_from_confusion([[50, 10], [5, 35]])
    assert scores["accuracy"] == pytest.approx(0.85)
    assert scores["precision"] == pytest.approx(35 / 45)
    assert scores["recall"] == pytest.approx(35 / 40)
    assert scores["f1"] == pytest.approx(2 * (35 / 45) * (35 / 40) / (35 / 45 + 35 / 40))


def test_multiclass_scores_are_weighted_by_support() -> None:
    scores = scores_from_confusion([[10, 0, 0], [0, 5, 5], [0, 0, 10]])
    assert scores["accuracy"] == pytest.approx(25 / 30)
    assert scores["recall"] == pytest.approx((10 * 1 + 10 * 0.5 + 10 * 1) / 30)


def test_metrics_of_predictions_are_exact(spark) -> None:
    # GIVEN four scored rows, perfectly ranked except one pair
    rows = [(0.0, 0.1), (0.0, 0.7), (1.0, 0.6), (1.0, 0.9)]
    predictions = spark.createDataFrame(
        [
            Row(
                _label=y,
                _raw_prediction=Vectors.dense([-s, s]),
                _probability=Vectors.dense([1 - s, s]),
                _prediction=float(s > 0.5),
            )
            for y, s in rows
        ]
    )
    # WHEN metrics are computed
    metrics, matrix = classification_metrics(predictions, 2)
    # THEN AUC is the exact fraction of correctly ranked pairs (3 of 4), the matrix counts every row
    assert metrics["areaUnderROC"] == pytest.approx(0.75)
    assert matrix == [[1, 1], [0, 2]]
    assert metrics["accuracy"] == pytest.approx(0.75)


def test_areas_match_sparks_evaluator_and_do_not_depend_on_partitioning(spark) -> None:
    # GIVEN 3,000 scored rows with ties, in 1 and in 7 partitions
    rows = [
        Row(
            _label=float(i % 3 == 0),
            _raw_prediction=Vectors.dense([0.0, float((i * 7919) % 101) / 10]),
            _probability=Vectors.dense([1 - ((i * 7919) % 101) / 100, ((i * 7919) % 101) / 100]),
            _prediction=float((i * 7919) % 101 > 50),
        )
        for i in range(3000)
    ]
    one = spark.createDataFrame(rows).repartition(1)
    seven = spark.createDataFrame(rows).repartition(7)
    # WHEN the areas are computed
    areas = areas_under_curves(outcome_counts(one, binary=True))
    # THEN they are Spark's exact (numBins=0) areas, to rounding
    evaluator = BinaryClassificationEvaluator(numBins=0, labelCol="_label", rawPredictionCol="_raw_prediction")
    assert areas["areaUnderROC"] == pytest.approx(evaluator.evaluate(one, {evaluator.metricName: "areaUnderROC"}))
    assert areas["areaUnderPR"] == pytest.approx(evaluator.evaluate(one, {evaluator.metricName: "areaUnderPR"}))
    # AND bit-identical whatever the partitioning
    assert areas_under_curves(outcome_counts(seven, binary=True)) == areas
