"""Classification metrics of a predictions DataFrame, exact and deterministic.

Areas under the curves use every distinct score: Spark's default down-sampling of the curves (`numBins`)
gives slightly different numbers for the same predictions.
"""

from __future__ import annotations

from pyspark.ml.functions import vector_to_array
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from speedrun.contract import LABEL
from speedrun.errors import SpeedrunError


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
    """Exact ROC and PR areas over every distinct score, the same numbers as Spark's evaluator with `numBins=0`
    but bit-identical across runs: Spark's evaluator sums the curve per range partition, and those ranges
    come from a sample of a shuffle whose order varies from run to run.

    ROC AUC is the Mann-Whitney statistic counted in whole numbers (`2U`), divided once. The PR area sums its
    trapezoids in score order within one partition: a fixed order, so a fixed result.
    """
    score = vector_to_array(F.col("rawPrediction"))[1]
    by_score = (
        predictions.groupBy(score.alias("score"))
        .agg(F.sum(F.col(LABEL).cast("long")).alias("pos"), F.count(F.lit(1)).alias("n"))
        .withColumn("neg", F.col("n") - F.col("pos"))
    )
    totals = by_score.agg(F.sum("pos").alias("P"), F.sum("neg").alias("N")).first()
    positives, negatives = totals["P"], totals["N"]
    if not positives or not negatives:
        raise SpeedrunError("the evaluated rows hold a single class: areas under the curves are undefined")
    descending = Window.orderBy(F.col("score").desc())
    so_far = descending.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    curve = (
        by_score.withColumn("tp", F.sum("pos").over(so_far))
        .withColumn("fp", F.sum("neg").over(so_far))
        .withColumn("recall", F.col("tp") / positives)
        .withColumn("precision", F.col("tp") / (F.col("tp") + F.col("fp")))
        .withColumn("prev_recall", F.lag("recall", 1, 0.0).over(descending))
        .withColumn("prev_precision", F.coalesce(F.lag("precision").over(descending), F.col("precision")))
    )
    sums = curve.agg(
        F.sum(F.col("pos") * (2 * (F.lit(negatives) - F.col("fp")) + F.col("neg"))).alias("two_u"),
        F.sum((F.col("recall") - F.col("prev_recall")) * (F.col("precision") + F.col("prev_precision")) / 2).alias(
            "pr"
        ),
    ).first()
    return {"areaUnderROC": sums["two_u"] / (2 * positives * negatives), "areaUnderPR": float(sums["pr"])}


def classification_metrics(predictions: DataFrame, n_classes: int) -> tuple[dict[str, float], list[list[int]]]:
    """All headline metrics and the confusion matrix; `predictions` is read three times, so cache it."""
    matrix = confusion_matrix(predictions, n_classes)
    metrics = scores_from_confusion(matrix)
    if n_classes == 2:
        metrics = {**areas_under_curves(predictions), **metrics}
    return metrics, matrix
