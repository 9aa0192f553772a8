"""What a two-class model decides, beyond its probabilities: the weight of each class on the training rows, and
the threshold on the positive class's probability above which it predicts that class, chosen on the validation
rows from the same counts the metrics come from (`metrics.outcome_counts`). Pure: counts in, numbers out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from pyspark.ml.functions import vector_to_array
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from speedrun.config.decisions import ThresholdObjective, TrainConfig
from speedrun.errors import SpeedrunError
from speedrun.transforms.columns import LABEL, PREDICTION, PROBABILITY, WEIGHT

# an F1 chosen on fewer positive validation rows than this is the best mean F1 over resamples of those rows:
# on a handful of positives the single best threshold is the one that happened to catch them, not one that holds
SURE_POSITIVES = 30
RESAMPLES = 200
FEW_POSITIVES = 10  # fewer: the note says the threshold may not hold on new rows
MOST_RESAMPLED = 20_000  # distinct probabilities past which a curve is not resampled (its positives are many)


def balanced_weights(counts: dict[int, int]) -> dict[int, float]:
    """Each class's weight n / (classes * n_class): every class weighs as much in total (scikit-learn's
    `balanced`), from the training rows' counts by class index."""
    total, classes = sum(counts.values()), len(counts)
    return {k: total / (classes * n) for k, n in sorted(counts.items())}


def training_weights(counts: Mapping[int, int], train: TrainConfig) -> dict[int, float] | None:
    """The class weights `train.class_weight` asks for, from the training rows' counts by class index (the split
    step's, `SplitResult.counts["train"]`): None when unweighted."""
    return balanced_weights(dict(counts)) if train.class_weight == "balanced" else None


def with_weights(rows: DataFrame, weights: dict[int, float] | None) -> DataFrame:
    """`rows` with each row's class weight in `_weight` (unchanged without weights)."""
    if weights is None:
        return rows
    by_index = F.array(*[F.lit(weights.get(k, 1.0)) for k in range(max(weights) + 1)])
    return rows.withColumn(WEIGHT, F.element_at(by_index, F.col(LABEL).cast("int") + 1))


@dataclass(frozen=True)
class Curve:
    """Precision and recall of predicting the positive class at P >= each distinct probability, highest first,
    with the validation rows and positive rows at each probability (what a resample of the rows draws from)."""

    thresholds: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    rows: np.ndarray
    positives: np.ndarray

    @property
    def f1(self) -> np.ndarray:
        both = self.precision + self.recall
        return np.divide(2 * self.precision * self.recall, both, out=np.zeros_like(both), where=both > 0)

    def resampled_f1(self, draws: int = RESAMPLES, seed: int = 0) -> np.ndarray:
        """The mean F1 at each threshold over `draws` bootstrap resamples of the validation rows (seeded: the same
        rows give the same curve): where few rows are positive, what an F1 on other rows is likely to be."""
        cells = np.concatenate([self.positives, self.rows - self.positives])
        drawn = np.random.default_rng(seed).multinomial(int(cells.sum()), cells / cells.sum(), size=draws)
        positive, negative = drawn[:, : len(self.rows)], drawn[:, len(self.rows) :]
        tp, predicted = np.cumsum(positive, axis=1), np.cumsum(positive + negative, axis=1)
        actual = tp[:, -1:]
        return np.mean(np.divide(2 * tp, predicted + actual, out=np.zeros(tp.shape), where=predicted + actual > 0), 0)


def curve_of(counts: pa.Table) -> Curve:
    """The precision-recall curve over every distinct probability of `counts` (label, probability, n)."""
    probability, at = np.unique(counts["probability"].to_numpy(), return_inverse=True)
    n = counts["n"].to_numpy()
    positive = np.bincount(at, weights=n * (counts["label"].to_numpy() == 1), minlength=len(probability))
    rows = np.bincount(at, weights=n, minlength=len(probability))
    tp, predicted = np.cumsum(positive[::-1]), np.cumsum(rows[::-1])
    recall = tp / max(tp[-1], 1)
    return Curve(probability[::-1], tp / predicted, recall, rows[::-1], positive[::-1])


@dataclass(frozen=True)
class Choice:
    threshold: float
    reached: bool  # whether the objective's floor (a precision or recall) was reached on validation


@dataclass(frozen=True)
class Decision:
    """How a run's model decides: its threshold (None: the classifier's own prediction) and the class weights
    it was fitted with (None: unweighted), with a line that says how the threshold came about."""

    threshold: float | None = None
    weights: dict[int, float] | None = None
    note: str = ""


def choose_threshold(curve: Curve, objective: ThresholdObjective) -> Choice:
    """The threshold the objective picks on the validation curve; ties go to the highest threshold. When no
    threshold reaches the floor, the one nearest it (the best precision, or the best recall). For F1 on fewer
    than SURE_POSITIVES positive rows, the best mean F1 over resamples of the rows. The threshold is set midway
    to the next lower probability seen: the same decisions on validation, with room for rows not seen."""
    if objective.optimize == "f1":
        few = curve.positives.sum() < SURE_POSITIVES and len(curve.thresholds) <= MOST_RESAMPLED
        return Choice(midway(curve, int(np.argmax(curve.resampled_f1() if few else curve.f1))), True)
    if objective.recall_at_precision is not None:
        floor, kept, best = objective.recall_at_precision, curve.precision, curve.recall
    else:
        floor, kept, best = objective.precision_at_recall, curve.recall, curve.precision
    allowed = kept >= floor - 1e-12
    if not allowed.any():
        return Choice(midway(curve, int(np.argmax(kept))), False)
    return Choice(midway(curve, int(np.argmax(np.where(allowed, best, -1.0)))), True)


def midway(curve: Curve, index: int) -> float:
    """The threshold between the probability at `index` and the next lower one seen (the lowest: itself)."""
    chosen = float(curve.thresholds[index])
    return chosen if index + 1 == len(curve.thresholds) else (chosen + float(curve.thresholds[index + 1])) / 2


def few_positives(curve: Curve) -> str:
    """A warning for the note when the threshold was chosen on fewer than FEW_POSITIVES positive rows."""
    positives = int(curve.positives.sum())
    if positives >= FEW_POSITIVES:
        return ""
    return (
        f"; only {positives} positive rows on validation: a threshold chosen on so few may not hold on new rows "
        "(raise split.validation, or fix train.threshold)"
    )


def no_positive_predicted(matrix: list[list[int]], threshold: float | None) -> str:
    """A line for a two-class test whose positive rows exist but none was predicted positive (F1 0), else ''."""
    if len(matrix) != 2 or matrix[0][1] + matrix[1][1] or not matrix[1][0]:
        return ""
    at = "the classifier's 0.5" if threshold is None else f"the threshold {threshold:.4f}"
    return (
        f"no test row reached {at}: none of the {matrix[1][0]:,} positive rows was predicted positive (F1 0); "
        "lower train.threshold, or give validation more positive rows"
    )


def threshold_for(counts: pa.Table, n_classes: int, train: TrainConfig) -> tuple[float | None, str]:
    """The run's threshold and how it came about: the one the config fixes, or the one its objective chooses on
    `counts` (the validation rows' outcome counts)."""
    if train.threshold == 0.5:
        return None, ""
    if n_classes != 2:
        raise SpeedrunError(f"train.threshold applies to two classes; the label has {n_classes}: remove it")
    if not isinstance(train.threshold, ThresholdObjective):
        return float(train.threshold), f"threshold {train.threshold:g} (fixed)"
    if counts.num_rows == 0:
        raise SpeedrunError("train.threshold: no validation rows to choose the threshold on; raise split.validation")
    curve = curve_of(counts)
    choice = choose_threshold(curve, train.threshold)
    missed = "" if choice.reached else ", not reached on validation: the nearest"
    return (
        choice.threshold,
        f"threshold {choice.threshold:.4f} chosen on validation ({train.threshold.describe()}{missed})"
        + few_positives(curve),
    )


def fixed_threshold(train: TrainConfig) -> float | None:
    """A threshold the config fixes (None: 0.5, the classifier's own prediction, or one chosen on validation)."""
    threshold = train.threshold
    return None if isinstance(threshold, ThresholdObjective) or threshold == 0.5 else float(threshold)


def decided(
    predictions: DataFrame, threshold: float | None, probability: str = PROBABILITY, prediction: str = PREDICTION
) -> DataFrame:
    """`predictions` with the positive class predicted where its probability is at least `threshold` (the
    probabilities unchanged); as they are without a threshold."""
    if threshold is None:
        return predictions
    chosen = (vector_to_array(F.col(probability))[1] >= F.lit(threshold)).cast("double")
    return predictions.withColumn(prediction, chosen)
