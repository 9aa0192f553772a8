"""What a model did on the test rows, pure: metrics and confusion matrix from whole-number counts, the score
histogram the report's curves are drawn from, and the model's feature weights named by the original columns.
What evaluate computes, and replay again."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pyarrow as pa
from pyspark.ml import PipelineModel
from pyspark.ml.stat import Summarizer
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from speedrun.transforms.columns import FEATURES
from speedrun.transforms.contract import contract_of
from speedrun.transforms.decided_class import classifier_of
from speedrun.transforms.metrics import metrics_of, outcome_counts

BINS = 100


def histogram_of(counts: pa.Table) -> list[list[int]]:
    """counts[class][bin] of the positive-class probability in BINS bins, from the outcome counts
    (`metrics.outcome_counts`): the curves and the score distributions, with no pass over the rows."""
    bins = np.minimum(np.floor(counts["probability"].to_numpy() * BINS), BINS - 1).astype(np.int64)
    labels, n = counts["label"].to_numpy(), counts["n"].to_numpy()
    return [np.bincount(bins[labels == k], weights=n[labels == k], minlength=BINS).astype(int).tolist() for k in (0, 1)]


def readable(slot: str) -> str:
    """`_contract__3__onehot_month-to-month` -> `contract = month-to-month`; `_age__0__imputed` -> `age` (the
    stand-in names of `features.ml_names`)."""
    column, _, rest = slot.removeprefix("_").partition("__")
    rest = rest.partition("__")[2]
    if rest.startswith("onehot_"):
        value = rest.removeprefix("onehot_")
        return f"{column} = {'(missing or unseen)' if value == '__unknown' else value}"
    return column


Scales = Callable[[PipelineModel, DataFrame], np.ndarray]  # each feature's standard deviation over the rows


def feature_scales(model: PipelineModel, predictions: DataFrame) -> np.ndarray:
    """Each assembled feature's standard deviation over `predictions`' rows: one Spark job."""
    return predictions.select(Summarizer.std(F.col(FEATURES)).alias("std")).first()["std"].toArray()


def feature_weights(
    model: PipelineModel, predictions: DataFrame, scales: Scales = feature_scales
) -> tuple[str, list[tuple[str, float]]]:
    """Coefficients (linear models, per standard deviation of the feature over the rows: `scales`) or importances
    (trees), by original column name, largest first."""
    attrs = predictions.schema[FEATURES].metadata.get("ml_attr", {}).get("attrs", {})
    names = {a["idx"]: readable(a["name"]) for group in attrs.values() for a in group}
    classifier = classifier_of(model)
    if hasattr(classifier, "featureImportances"):
        kind, values = "importance", classifier.featureImportances.toArray()
    elif hasattr(classifier, "coefficientMatrix"):
        # per standard deviation of the feature, so that features on different scales compare; with more
        # than two classes, the largest in size over the classes
        matrix = classifier.coefficientMatrix.toArray() * scales(model, predictions)
        kind, values = "standardized coefficient", matrix[0] if len(matrix) == 1 else abs(matrix).max(axis=0)
    else:
        return "weight", []
    weights = [(names.get(i, f"feature {i}"), float(v)) for i, v in enumerate(values)]
    return kind, sorted(weights, key=lambda w: -abs(w[1]))[:25]


@dataclass(frozen=True)
class OutcomeOnTest:
    """What the model did on the test rows: metrics, confusion matrix, the charts' data (the feature weights made
    when asked: for a linear model, a pass over the predictions, made by the report once the metrics are out)."""

    classes: list[str]
    metrics: dict[str, float]
    matrix: list[list[int]]
    histogram: Any
    weights: Callable[[], tuple[str, list[tuple[str, float]]]]


def outcome_on_test(
    model: PipelineModel, test: DataFrame, threshold: float | None = None, scales: Scales = feature_scales
) -> OutcomeOnTest:
    """The model's metrics on the test rows (the class metrics at the run's `threshold`), its score histogram
    and feature weights for the report. The metrics come from whole-number counts, the same in any row order:
    the rows are scored as they are read, without a shuffle into the fixed layout or a cache, in one Spark job
    (and, once `weights` are asked for, one more for a linear model's feature scales, unless `scales` has them)."""
    classes = contract_of(test).classes
    predictions = model.transform(test)
    counts = outcome_counts(predictions, len(classes) == 2)
    metrics, matrix = metrics_of(counts, len(classes), threshold)
    histogram = histogram_of(counts) if len(classes) == 2 else None
    return OutcomeOnTest(classes, metrics, matrix, histogram, partial(feature_weights, model, predictions, scales))
