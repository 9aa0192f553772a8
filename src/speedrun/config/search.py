"""The `search:` config section: which classifiers and parameter values `speedrun tune` tries.

Each candidate names a model type and its parameters; a parameter is one value, a list of values, or a range
(`{low: 0.01, high: 0.3, log: true}`, drawn at random). A grid tries every combination of the lists; a random
search draws `trials` candidates. Without a `search:` section, `speedrun tune` uses DEFAULT_CANDIDATES.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator

from speedrun.config.base import METRICS, Strict
from speedrun.config.models import MODEL_TYPES

# Good on tabular data without any config: regularized logistic regression, and xgboost at a few depths and
# learning rates, on 80% of the rows and of the features per tree (less overfitting on small, noisy files), each
# stopping once 30 rounds in a row did not lower its log loss on the validation rows (the best round kept), so
# that a slow learning rate gets the rounds it needs and a fast one is not overfitted.
DEFAULT_CANDIDATES: list[dict[str, Any]] = [
    {"type": "logistic_regression", "reg_param": [0.001, 0.01, 0.1], "max_iter": 100},
    {
        "type": "xgboost",
        "max_depth": [4, 6],
        "learning_rate": [0.05, 0.1],
        "subsample": 0.8,
        "colsample_bytree": 0.8,
        "n_estimators": 1000,
        "early_stopping_rounds": 30,
    },
]
TUNING_METRICS = (*METRICS, "logLoss")
LOWER_IS_BETTER = ("logLoss",)
DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|m|h)?$")


class Range(Strict):
    low: float
    high: float
    log: bool = False  # drawn uniformly in log space (learning rates, regularization)


class SearchConfig(Strict):
    candidates: list[dict[str, Any]] = Field(default_factory=lambda: [dict(c) for c in DEFAULT_CANDIDATES])
    strategy: Literal["grid", "random"] = "grid"
    trials: int | None = Field(None, ge=1)  # random: how many to draw (default 10); grid: the first n
    budget: str | None = None  # e.g. `90s`, `5m`: no new candidate starts after it (the first always runs)
    metric: str | None = None  # default areaUnderROC (two classes), logLoss (more)
    seed: int = 7  # the random draw's
    # candidates fitted at once (threads of one session): on 2 cores, 2 made the default search at 10^5 rows
    # 1.3x faster than 1 (the driver's gaps between one fit's short Spark jobs are filled by the other's)
    parallel: int = Field(2, ge=1)

    @field_validator("candidates")
    @classmethod
    def _typed(cls, candidates: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not candidates:
            raise ValueError("give at least one candidate")
        for candidate in candidates:
            if candidate.get("type") not in MODEL_TYPES:
                raise ValueError(f"a candidate's type must be one of {', '.join(MODEL_TYPES)}")
        return candidates

    @field_validator("metric")
    @classmethod
    def _known(cls, metric: str | None) -> str | None:
        if metric is not None and metric not in TUNING_METRICS:
            raise ValueError(f"unknown metric {metric}; choose from {', '.join(TUNING_METRICS)}")
        return metric

    @field_validator("budget")
    @classmethod
    def _duration(cls, budget: str | None) -> str | None:
        if budget is not None:
            seconds(budget)
        return budget

    def budget_seconds(self) -> float | None:
        return None if self.budget is None else seconds(self.budget)


def seconds(duration: str) -> float:
    """`90s`, `5m`, `1.5h` or a bare number of seconds, in seconds."""
    found = DURATION.match(str(duration).strip())
    if found is None:
        raise ValueError(f"{duration!r} is not a duration: write e.g. 90s, 5m or 1h")
    return float(found.group(1)) * {"s": 1, "m": 60, "h": 3600, None: 1}[found.group(2)]
