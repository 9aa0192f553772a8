"""One typed, validated configuration object, loaded from YAML with `key=value` overrides.

A config is a YAML file on disk, or the name of a config packaged in the wheel (``default``), so a
deployed job finds its configuration without any file being synced next to it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import Field, ValidationError, field_validator, model_validator

from speedrun.config.base import METRICS, Strict, _identifier
from speedrun.config.data import (
    ColumnsConfig,
    FeaturesConfig,
    GenerateConfig,
    LabelConfig,
    SourceConfig,
    SplitConfig,
    StorageConfig,
    normalize_label,
)
from speedrun.config.decisions import DriftConfig, ScoringConfig, ThresholdObjective, TrainConfig
from speedrun.config.models import MODEL_TYPES, GBTConfig, LogisticRegressionConfig, ModelConfig, RandomForestConfig
from speedrun.config.search import SearchConfig
from speedrun.config.yaml_files import apply_override, read_yaml, relative_to
from speedrun.errors import SpeedrunError

__all__ = [
    "MODEL_TYPES",
    "ColumnsConfig",
    "Config",
    "DriftConfig",
    "GBTConfig",
    "GenerateConfig",
    "LabelConfig",
    "LogisticRegressionConfig",
    "RandomForestConfig",
    "ScoringConfig",
    "SearchConfig",
    "SourceConfig",
    "SplitConfig",
    "StorageConfig",
    "ThresholdObjective",
    "TrainConfig",
    "load_config",
    "normalize_label",
    "relative_to",
]


class PrepareConfig(Strict):
    max_quarantined_fraction: float = Field(0.1, ge=0, le=1)  # more rows failing cleaning fail the run


class RegistryConfig(Strict):
    """The model registry: MLflow's locally, Unity Catalog's (`catalog.schema.model_name`) on Databricks."""

    model_name: str | None = None  # default: <name>_classifier

    _check_name = field_validator("model_name")(_identifier)


class ValidationConfig(Strict):
    """What a candidate must score on the test split to become `challenger`."""

    thresholds: dict[str, float] = {"areaUnderROC": 0.6}  # minimum test metrics
    compare_on: str = "areaUnderROC"  # the metric compared with the current champion's
    min_gain: float = 0.0  # how much better than the champion's it must be (may be negative: a tolerance)

    @field_validator("thresholds")
    @classmethod
    def _known_metrics(cls, thresholds: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(thresholds) - set(METRICS))
        if unknown:
            raise ValueError(f"unknown metric {', '.join(unknown)}; choose from {', '.join(METRICS)}")
        return thresholds

    @field_validator("compare_on")
    @classmethod
    def _known_metric(cls, metric: str) -> str:
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric}; choose from {', '.join(METRICS)}")
        return metric


class TrackingConfig(Strict):
    enabled: bool = True
    uri: str | None = None  # default: a SQLite store in work_dir; `databricks` on Databricks
    experiment: str | None = None  # default: speedrun-<name>; a workspace path on Databricks


class ServerConfig(Strict):
    idle_minutes: float = Field(20, gt=0)  # the local speedrun server stops after this long without a command


class Config(Strict):
    name: str = "default"
    storage: StorageConfig = StorageConfig()
    source: SourceConfig = SourceConfig()
    test_source: SourceConfig | None = None  # a given test file: then train and validation split the source
    columns: ColumnsConfig
    prepare: PrepareConfig = PrepareConfig()
    split: SplitConfig = SplitConfig()
    features: FeaturesConfig = FeaturesConfig()
    model: ModelConfig
    search: SearchConfig | None = None  # what `speedrun tune` tries; a config with one makes `run` tune too
    train: TrainConfig = TrainConfig()
    tracking: TrackingConfig = TrackingConfig()
    registry: RegistryConfig = RegistryConfig()
    validation: ValidationConfig = ValidationConfig()
    scoring: ScoringConfig = ScoringConfig()
    server: ServerConfig = ServerConfig()

    _check_name = field_validator("name")(_identifier)

    @model_validator(mode="after")
    def _threshold_chosen_on_validation(self) -> Config:
        if self.train.chooses_threshold() and self.split.validation == 0:
            raise ValueError(
                "train.threshold: an objective chooses the threshold on the validation rows: set split.validation "
                "above 0, or give a fixed threshold"
            )
        return self

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)

    def digest(self) -> str:
        """A stable hash of the fully resolved config."""
        text = json.dumps(self.as_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _describe(error: dict[str, Any]) -> str:
    loc = [str(p) for p in error["loc"]]
    model_type = ""
    if len(loc) > 1 and loc[0] == "model" and loc[1] in MODEL_TYPES:
        model_type = loc.pop(1)  # pydantic names the union member; the user wrote model.<key>
    key = ".".join(loc)
    if error["type"] == "extra_forbidden":
        return f"{key}: unknown key" + (f" for model type {model_type}" if model_type else "")
    if error["type"] == "missing":
        return f"{key}: required key is missing"
    if error["type"] == "union_tag_invalid":
        return f"{key}: unknown model type {error['input'].get('type')!r}; choose one of {', '.join(MODEL_TYPES)}"
    message = error["msg"].removeprefix("Value error, ")
    if not key:
        return message  # a check across sections names its keys itself
    if "input" in error and not isinstance(error["input"], dict):
        return f"{key}: {message} (got {repr(error['input'])[:60]})"
    return f"{key}: {message}"


def load_config(source: str = "default", overrides: list[str] | None = None) -> Config:
    where, data = read_yaml(source)
    for assignment in overrides or []:
        apply_override(data, assignment)
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(_describe(e) for e in exc.errors(include_url=False))
        raise SpeedrunError(f"invalid config ({where}): {problems}") from None
