"""Config sections of the model: the classifier and its parameters, by type."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from speedrun.config.base import Strict


class LogisticRegressionConfig(Strict):
    type: Literal["logistic_regression"]
    max_iter: int = Field(100, ge=1)
    reg_param: float = Field(0.0, ge=0)
    elastic_net_param: float = Field(0.0, ge=0, le=1)
    tol: float = Field(1e-6, gt=0)
    standardization: bool = True


class RandomForestConfig(Strict):
    type: Literal["random_forest"]
    num_trees: int = Field(50, ge=1)
    max_depth: int = Field(8, ge=1, le=30)
    max_bins: int | None = Field(None, ge=2)  # None: 32, or more when a categorical feature has more values
    min_instances_per_node: int = Field(1, ge=1)
    subsampling_rate: float = Field(1.0, gt=0, le=1)
    feature_subset_strategy: str = "auto"
    seed: int = 42


class GBTConfig(Strict):
    type: Literal["gbt"]
    max_iter: int = Field(50, ge=1)
    max_depth: int = Field(5, ge=1, le=30)
    max_bins: int | None = Field(None, ge=2)  # None: 32, or more when a categorical feature has more values
    step_size: float = Field(0.1, gt=0, le=1)
    subsampling_rate: float = Field(1.0, gt=0, le=1)
    min_instances_per_node: int = Field(1, ge=1)
    seed: int = 42


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
    num_workers: int = Field(1, ge=1)  # fixed, so that a refit is bit-identical on any number of cores
    random_state: int = 42


ModelConfig = Annotated[
    LogisticRegressionConfig | RandomForestConfig | GBTConfig | XGBoostConfig, Field(discriminator="type")
]
MODEL_TYPES = ("logistic_regression", "random_forest", "gbt", "xgboost")
