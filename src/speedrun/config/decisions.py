"""Config sections of what a model decides and how its scoring is watched: the training rows' class weights, the
decision threshold (fixed, or chosen on the validation rows), and the drift of scored batches."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from speedrun.config.base import Strict

OBJECTIVES = ("optimize", "recall_at_precision", "precision_at_recall")


class ThresholdObjective(Strict):
    """How the two-class decision threshold is chosen on the validation rows (never the test rows): one key."""

    optimize: Literal["f1"] | None = None  # the threshold of the best F1 of the positive class
    recall_at_precision: float | None = Field(None, gt=0, le=1)  # the most recall at this precision or more
    precision_at_recall: float | None = Field(None, gt=0, le=1)  # the most precision at this recall or more

    @model_validator(mode="after")
    def _one_objective(self) -> ThresholdObjective:
        given = [key for key in OBJECTIVES if getattr(self, key) is not None]
        if len(given) != 1:
            raise ValueError("give one of optimize: f1, recall_at_precision: P, precision_at_recall: R")
        return self

    def describe(self) -> str:
        key = next(k for k in OBJECTIVES if getattr(self, k) is not None)
        return f"{key} {getattr(self, key)}"


THRESHOLD_FORMS = (
    "a number between 0 and 1, or one of {optimize: f1}, {recall_at_precision: P}, {precision_at_recall: R}"
)
Probability = Annotated[float, Field(gt=0, lt=1)]


class TrainConfig(Strict):
    partitions: int = Field(2, ge=1)
    # balanced: each class weighs n / (classes * n_class) on the training rows (scikit-learn's `balanced`)
    class_weight: Literal["balanced", "none"] = "none"
    # two classes: the positive class is predicted at P(positive) >= threshold; an objective chooses it on the
    # validation rows. 0.5 leaves the classifier's own prediction.
    threshold: Probability | ThresholdObjective = 0.5

    @field_validator("threshold", mode="before")
    @classmethod
    def _number_or_objective(cls, value: Any) -> Any:
        """One readable line for either form (pydantic would list both members of the union)."""
        if isinstance(value, dict):
            try:
                return ThresholdObjective.model_validate(value)
            except ValidationError as exc:
                raise ValueError(
                    f"{THRESHOLD_FORMS} ({exc.errors()[0]['msg'].removeprefix('Value error, ')})"
                ) from None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
            raise ValueError(THRESHOLD_FORMS)
        return value

    def chooses_threshold(self) -> bool:
        return isinstance(self.threshold, ThresholdObjective)


class DriftConfig(Strict):
    """The drift of each scored batch from the training rows, by feature (population stability index)."""

    enabled: bool = True
    warn: float = Field(0.1, gt=0)  # a feature above this is named in the scoring line
    fail: float | None = Field(0.25, gt=0)  # above this the scoring task fails, after writing (None: never)
    bins: int = Field(10, ge=2, le=50)  # quantile bins of a numeric feature on the training rows
    min_rows: int = Field(200, ge=1)  # a batch with fewer scored rows: no PSI (it would be noise), said so

    @model_validator(mode="after")
    def _ordered(self) -> DriftConfig:
        if self.fail is not None and self.fail < self.warn:
            raise ValueError(f"fail ({self.fail:g}) must not be below warn ({self.warn:g})")
        return self


class ScoringConfig(Strict):
    path: str = "raw/score"  # new data to score (file, folder or glob), read like `source`; or `score --input`
    drift: DriftConfig = DriftConfig()
