"""The report's pure parts: curves from a score histogram, feature slots named by their original columns."""

from __future__ import annotations

import pyarrow as pa
import pytest

from speedrun.edges.report import curves
from speedrun.transforms.outcome import BINS, histogram_of, readable


def test_slots_are_named_by_their_original_columns() -> None:
    assert readable("_age__0__imputed") == "age"
    assert readable("_contract__3__onehot_month-to-month") == "contract = month-to-month"
    assert readable("_contract__3__onehot___unknown") == "contract = (missing or unseen)"
    assert readable("_contract__3__index") == "contract"


def test_curves_run_from_the_strictest_threshold_to_the_loosest() -> None:
    # GIVEN 10 negatives scored low (bin 10) and 30 positives scored high (bin 90)
    histogram = [[0] * BINS, [0] * BINS]
    histogram[0][10], histogram[1][90] = 10, 30
    c = curves(histogram)
    # THEN the ROC curve goes from (0, 0) to (1, 1) through (0, 1): a perfect ranking
    assert (c["fpr"][0], c["tpr"][0]) == (0.0, 0.0)
    assert (c["fpr"][-1], c["tpr"][-1]) == (1.0, 1.0)
    assert (0.0, 1.0) in zip(c["fpr"], c["tpr"], strict=True)
    # AND precision is 1 until the negatives come in, then the positive rate
    assert c["precision"][-1] == pytest.approx(30 / 40)
    assert max(p for p, r in zip(c["precision"], c["recall"], strict=True) if r == 1.0) == 1.0


def test_the_score_histogram_comes_from_the_outcome_counts() -> None:
    # GIVEN outcome counts: 4 negatives at 0.105, 2 positives at 0.9, 1 positive at exactly 1.0
    counts = pa.table({"label": [0, 1, 1], "predicted": [0, 1, 1], "probability": [0.105, 0.9, 1.0], "n": [4, 2, 1]})
    # WHEN binned THEN each count is in its probability's bin, 1.0 in the last
    histogram = histogram_of(counts)
    assert [sum(h) for h in histogram] == [4, 3]
    assert (histogram[0][10], histogram[1][90], histogram[1][BINS - 1]) == (4, 2, 1)
