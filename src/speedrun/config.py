"""One typed, validated configuration object, loaded from YAML with `key=value` overrides.

A config is a YAML file on disk, or the name of a config packaged in the wheel (``default``), so a
deployed job finds its configuration without any file being synced next to it.
"""

from __future__ import annotations

import hashlib
import json
import re
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from speedrun.errors import SpeedrunError

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PACKAGED_CONFIGS = ("default",)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _identifier(value: str | None) -> str | None:
    if value is not None and not IDENTIFIER.match(value):
        raise ValueError(f"{value!r} is not a plain identifier (letters, digits, underscores)")
    return value


class StorageConfig(Strict):
    """Where tables and files live. No catalog: local Delta tables under `warehouse_dir`.
    A catalog: Unity Catalog tables `catalog.schema.<name>_<table>`."""

    work_dir: str = "work"
    catalog: str | None = None
    schema_name: str = Field("speedrun", alias="schema")
    warehouse_dir: str = "warehouse"

    _check_names = field_validator("catalog", "schema_name")(_identifier)

    def resolve(self, path: str) -> str:
        """A relative path is taken relative to `work_dir`."""
        if "://" in path or path.startswith("/"):
            return path
        return str(Path(self.work_dir) / path)


class GenerateConfig(Strict):
    rows: int = Field(20_000, ge=10)
    seed: int = 7


class SourceConfig(Strict):
    path: str = "raw/default"
    format: Literal["csv", "parquet"] = "csv"
    header: bool = True
    delimiter: str = ","
    generate_if_missing: GenerateConfig | None = None


class LabelConfig(Strict):
    column: str
    classes: list[str] = Field(min_length=2)

    @field_validator("classes")
    @classmethod
    def _distinct(cls, classes: list[str]) -> list[str]:
        if len(set(classes)) != len(classes):
            raise ValueError(f"classes must be distinct, got {classes}")
        return classes


class ColumnsConfig(Strict):
    label: LabelConfig
    numeric: list[str] = []
    categorical: list[str] = []
    id: str | None = None

    @model_validator(mode="after")
    def _disjoint(self) -> ColumnsConfig:
        if not self.numeric and not self.categorical:
            raise ValueError("at least one numeric or categorical feature column is needed")
        named = [*self.numeric, *self.categorical, self.label.column, *([self.id] if self.id else [])]
        repeated = sorted({c for c in named if named.count(c) > 1})
        if repeated:
            raise ValueError(f"columns named more than once: {', '.join(repeated)}")
        return self

    @property
    def features(self) -> list[str]:
        return [*self.numeric, *self.categorical]


class SplitConfig(Strict):
    train: float = Field(0.7, gt=0, lt=1)
    validation: float = Field(0.15, ge=0, lt=1)
    test: float = Field(0.15, gt=0, lt=1)
    seed: int = 42

    @model_validator(mode="after")
    def _sum_to_one(self) -> SplitConfig:
        total = self.train + self.validation + self.test
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"train + validation + test must be 1, got {total:g}")
        return self


class FeaturesConfig(Strict):
    impute_strategy: Literal["mean", "median"] = "median"
    scale: bool = False


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
    max_bins: int = Field(32, ge=2)
    min_instances_per_node: int = Field(1, ge=1)
    subsampling_rate: float = Field(1.0, gt=0, le=1)
    feature_subset_strategy: str = "auto"
    seed: int = 42


class GBTConfig(Strict):
    type: Literal["gbt"]
    max_iter: int = Field(50, ge=1)
    max_depth: int = Field(5, ge=1, le=30)
    max_bins: int = Field(32, ge=2)
    step_size: float = Field(0.1, gt=0, le=1)
    subsampling_rate: float = Field(1.0, gt=0, le=1)
    min_instances_per_node: int = Field(1, ge=1)
    seed: int = 42


ModelConfig = Annotated[LogisticRegressionConfig | RandomForestConfig | GBTConfig, Field(discriminator="type")]
MODEL_TYPES = ("logistic_regression", "random_forest", "gbt")


class TrainConfig(Strict):
    partitions: int = Field(2, ge=1)


class TrackingConfig(Strict):
    enabled: bool = True
    uri: str | None = None  # default: a SQLite store in work_dir; `databricks` on Databricks
    experiment: str | None = None  # default: speedrun-<name>; a workspace path on Databricks


class Config(Strict):
    name: str = "default"
    storage: StorageConfig = StorageConfig()
    source: SourceConfig = SourceConfig()
    columns: ColumnsConfig
    split: SplitConfig = SplitConfig()
    features: FeaturesConfig = FeaturesConfig()
    model: ModelConfig
    train: TrainConfig = TrainConfig()
    tracking: TrackingConfig = TrackingConfig()

    _check_name = field_validator("name")(_identifier)

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)

    def digest(self) -> str:
        """A stable hash of the fully resolved config."""
        text = json.dumps(self.as_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def read_yaml(source: str) -> tuple[str, dict[str, Any]]:
    """Read a config file, or a config packaged with speedrun, as a dict. Returns (where, data)."""
    path = Path(source)
    if path.is_file():
        text, where = path.read_text(), str(path)
    elif source in PACKAGED_CONFIGS:
        text = resources.files("speedrun.conf").joinpath(f"{source}.yml").read_text()
        where = f"packaged config '{source}'"
    else:
        raise SpeedrunError(
            f"config file not found: {source} (give a YAML file, or a packaged config: {', '.join(PACKAGED_CONFIGS)})"
        )
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise SpeedrunError(f"{where} is not valid YAML: {' '.join(str(exc).split())}") from None
    if not isinstance(data, dict):
        raise SpeedrunError(f"{where} must be a YAML mapping of keys to values")
    return where, data


def apply_override(data: dict[str, Any], assignment: str) -> None:
    """Apply one `dotted.key=value` override in place; the value is parsed as YAML (`50`, `true`, `[a, b]`)."""
    key, sep, raw = assignment.partition("=")
    if not sep or not key.strip():
        raise SpeedrunError(f"--set expects key=value, got {assignment!r}")
    parts = key.strip().split(".")
    node = data
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise SpeedrunError(f"--set {key}: {part} is a value, not a section")
        node = child
    node[parts[-1]] = yaml.safe_load(raw) if raw.strip() else None


def _describe(error: dict[str, Any]) -> str:
    loc = [str(p) for p in error["loc"]]
    model_type = ""
    if len(loc) > 1 and loc[0] == "model" and loc[1] in MODEL_TYPES:
        model_type = loc.pop(1)  # pydantic names the union member; the user wrote model.<key>
    key = ".".join(loc) or "(top level)"
    if error["type"] == "extra_forbidden":
        return f"{key}: unknown key" + (f" for model type {model_type}" if model_type else "")
    if error["type"] == "missing":
        return f"{key}: required key is missing"
    if error["type"] == "union_tag_invalid":
        return f"{key}: unknown model type {error['input'].get('type')!r}; choose one of {', '.join(MODEL_TYPES)}"
    message = error["msg"].removeprefix("Value error, ")
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
