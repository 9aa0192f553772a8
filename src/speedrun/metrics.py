"""Classification metrics of a predictions DataFrame, exact and deterministic.

Areas under the curves use every distinct score (`numBins=0`): the default down-sampling of the curves
gives slightly different numbers for the same predictions.
"""

from __future__ import annotations

from pyspark.ml.evaluation import BinaryClassificationEvaluator
from pyspark.sql import DataFrame

from speedrun.features import LABEL


def confusion_matrix(predictions: DataFrame, n_classes: int) -> list[list[int]]:
    """matrix[actual][predicted] counts, in one pass."""
    matrix = [[0] * n_classes for _ in range(n_classes)]
    for row in predictions.groupBy(LABEL, "prediction").count().collect():
        matrix[int(row[LABEL])][int(row["prediction"])] = row["count"]
    return matrix


def _ratio(num: float, den: float) -> float:
    return num / den if den else 0.0


def per_class(matrix: list[list[int]]) -> list[dict[str, float]]:
    n = len(matrix)
    out = []
    for k in range(n):
        tp = matrix[k][k]
        predicted = sum(matrix[a][k] for a in range(n))
        actual = sum(matrix[k])
        precision, recall = _ratio(tp, predicted), _ratio(tp, actual)
        out.append(
            {
                "precision": precision,
                "recall": recall,
                "f1": _ratio(2 * precision * recall, precision + recall),
                "support": actual,
            }
        )
    return out


def scores_from_confusion(matrix: list[list[int]]) -> dict[str, float]:
    """Accuracy; for two classes precision, recall and F1 of the positive class (index 1);
    for more, their averages weighted by support."""
    total = sum(map(sum, matrix))
    classes = per_class(matrix)
    scores = {"accuracy": _ratio(sum(matrix[k][k] for k in range(len(matrix))), total)}
    if len(matrix) == 2:
        scores.update({k: classes[1][k] for k in ("precision", "recall", "f1")})
    else:
        for k in ("precision", "recall", "f1"):
            scores[k] = _ratio(sum(c[k] * c["support"] for c in classes), total)
    return scores


def areas_under_curves(predictions: DataFrame) -> dict[str, float]:
    evaluator = BinaryClassificationEvaluator(labelCol=LABEL, rawPredictionCol="rawPrediction", numBins=0)
    return {
        metric: evaluator.evaluate(predictions, {evaluator.metricName: metric})
        for metric in ("areaUnderROC", "areaUnderPR")
    }


def classification_metrics(predictions: DataFrame, n_classes: int) -> tuple[dict[str, float], list[list[int]]]:
    """All headline metrics and the confusion matrix; `predictions` is read three times, so cache it."""
    matrix = confusion_matrix(predictions, n_classes)
    metrics = scores_from_confusion(matrix)
    if n_classes == 2:
        metrics = {**areas_under_curves(predictions), **metrics}
    return metrics, matrix
