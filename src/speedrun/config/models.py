"""Config sections of the model: the classifier and its parameters, by type."""

from __future__ import annotations

from typing import Annotated, Literal, Union, get_args

from pydantic import Field

from speedrun.config.base import Strict


class LogisticRegressionConfig(Strict):
    type: Literal["logistic_regression"]
    max_iter: int = Field(100, ge=1)
    reg_param: float = Field(0.0, ge=0)
    elastic_net_param: float = Field(0.0, ge=0, le=1)
    tol: float = Field(1e-6, gt=0)
    standardization: bool = True


class SparkTreesConfig(Strict):
    """What Spark's tree ensembles share."""

    max_bins: int | None = Field(None, ge=2)  # None: 32, or more when a categorical feature has more values
    min_instances_per_node: int = Field(1, ge=1)
    subsampling_rate: float = Field(1.0, gt=0, le=1)
    seed: int = 42


class RandomForestConfig(SparkTreesConfig):
    type: Literal["random_forest"]
    num_trees: int = Field(50, ge=1)
    max_depth: int = Field(8, ge=1, le=30)
    feature_subset_strategy: str = "auto"


class GBTConfig(SparkTreesConfig):
    type: Literal["gbt"]
    max_iter: int = Field(50, ge=1)
    max_depth: int = Field(5, ge=1, le=30)
    step_size: float = Field(0.1, gt=0, le=1)
    # a number: stop adding trees once the validation rows' error improves by less than it (Spark's validationTol)
    validation_tol: float | None = Field(None, gt=0)


class XGBoostConfig(Strict):
    """xgboost's own parameter names (`xgboost.spark.SparkXGBClassifier`); `num_workers` Spark tasks train it."""

    type: Literal["xgboost"]
    n_estimators: int = Field(300, ge=1)
    max_depth: int = Field(6, ge=0, le=30)
    learning_rate: float = Field(0.1, gt=0, le=1)
    min_child_weight: float = Field(1.0, ge=0)
    subsample: float = Field(1.0, gt=0, le=1)
    colsample_bytree: float = Field(1.0, gt=0, le=1)
    reg_lambda: float = Field(1.0, ge=0)
    reg_alpha: float = Field(0.0, ge=0)
    max_bin: int = Field(256, ge=2)
    # a number: stop once the validation rows' log loss has not improved for that many rounds (the model keeps
    # the best round); needs validation rows
    early_stopping_rounds: int | None = Field(None, ge=1)
    eval_metric: str | None = None  # what stopping early watches (xgboost's name: auc, logloss, ...); None: log loss
    num_workers: int = Field(1, ge=1)  # fixed, so that a refit is bit-identical on any number of cores
    random_state: int = 42


MODELS = (LogisticRegressionConfig, RandomForestConfig, GBTConfig, XGBoostConfig)
ModelConfig = Annotated[Union[MODELS], Field(discriminator="type")]  # noqa: UP007 - a union of a tuple's types
MODEL_TYPES = tuple(get_args(model.model_fields["type"].annotation)[0] for model in MODELS)


def stops_early(model: object) -> bool:
    """Whether the model stops adding trees on the validation rows (xgboost's early_stopping_rounds, GBT's
    validation_tol)."""
    return any(getattr(model, key, None) is not None for key in ("early_stopping_rounds", "validation_tol"))
