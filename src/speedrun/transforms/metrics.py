"""Classification metrics of a predictions DataFrame, exact and deterministic.

Areas under the curves use every distinct score: Spark's default down-sampling of the curves (`numBins`)
gives slightly different numbers for the same predictions.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from pyspark.ml.functions import vector_to_array
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from speedrun.errors import SpeedrunError
from speedrun.transforms.columns import LABEL, PREDICTION, PROBABILITY, RAW_PREDICTION


def outcome_counts(predictions: DataFrame, binary: bool) -> pa.Table:
    """Rows per (label, prediction[, score, probability]), in one Spark job, as an Arrow table: what every metric
    and a chosen threshold is computed from. `score` and `probability`: the positive class's raw prediction and
    probability."""
    keys = [F.col(LABEL).cast("int").alias("label"), F.col(PREDICTION).cast("int").alias("predicted")]
    if binary:
        keys.append(vector_to_array(F.col(RAW_PREDICTION))[1].alias("score"))
        keys.append(vector_to_array(F.col(PROBABILITY))[1].alias("probability"))
    return predictions.groupBy(*keys).agg(F.count(F.lit(1)).alias("n")).toArrow()


def confusion_matrix(counts: pa.Table, n_classes: int) -> list[list[int]]:
    """matrix[actual][predicted] counts."""
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (counts["label"].to_numpy(), counts["predicted"].to_numpy()), counts["n"].to_numpy())
    return matrix.tolist()


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


def areas_under_curves(counts: pa.Table) -> dict[str, float]:
    """Exact ROC and PR areas over every distinct score, the same numbers as Spark's evaluator with `numBins=0`
    but bit-identical across runs (Spark's evaluator sums the curve per range partition, and those ranges come
    from a sample of a shuffle whose order varies from run to run).

    ROC AUC is the Mann-Whitney statistic counted in whole numbers (`2U`), divided once. The PR area sums its
    trapezoids one after another in descending score order: a fixed order, so a fixed result.
    """
    scores, at = np.unique(counts["score"].to_numpy(), return_inverse=True)
    rows = np.bincount(at, weights=counts["n"].to_numpy(), minlength=len(scores)).astype(np.int64)[::-1]
    positive = counts["n"].to_numpy() * (counts["label"].to_numpy() == 1)
    pos = np.bincount(at, weights=positive, minlength=len(scores)).astype(np.int64)[::-1]
    neg = rows - pos
    positives, negatives = int(pos.sum()), int(neg.sum())
    if not positives or not negatives:
        raise SpeedrunError("the evaluated rows hold a single class: areas under the curves are undefined")
    tp, fp = np.cumsum(pos), np.cumsum(neg)
    recall = tp / float(positives)
    precision = tp / (tp + fp).astype(np.float64)
    prev_recall = np.concatenate(([0.0], recall[:-1]))
    prev_precision = np.concatenate((precision[:1], precision[:-1]))
    two_u = sum(int(p) * (2 * (negatives - int(f)) + int(n)) for p, f, n in zip(pos, fp, neg, strict=True))
    trapezoids = (recall - prev_recall) * (precision + prev_precision) / 2
    return {
        "areaUnderROC": two_u / (2 * positives * negatives),
        "areaUnderPR": float(np.cumsum(trapezoids)[-1]),
    }


def at_threshold(counts: pa.Table, threshold: float | None) -> pa.Table:
    """`counts` with the positive class predicted where its probability is at least `threshold` (as they are
    without one): the class metrics at a decision threshold, from the same counts."""
    if threshold is None:
        return counts
    predicted = pa.array((counts["probability"].to_numpy() >= threshold).astype(np.int32))
    return counts.set_column(counts.schema.get_field_index("predicted"), "predicted", predicted)


def classification_metrics(
    predictions: DataFrame, n_classes: int, threshold: float | None = None
) -> tuple[dict[str, float], list[list[int]]]:
    """All headline metrics and the confusion matrix, from one Spark job over `predictions`, the class metrics
    at `threshold` when given (two classes); empty for no rows."""
    return metrics_of(outcome_counts(predictions, n_classes == 2), n_classes, threshold)


def metrics_of(
    counts: pa.Table, n_classes: int, threshold: float | None = None
) -> tuple[dict[str, float], list[list[int]]]:
    """`classification_metrics` from the outcome counts."""
    if counts.num_rows == 0:
        return {}, []
    counts = at_threshold(counts, threshold)
    matrix = confusion_matrix(counts, n_classes)
    metrics = scores_from_confusion(matrix)
    if n_classes == 2:
        metrics = {**areas_under_curves(counts), **metrics}
    return metrics, matrix
