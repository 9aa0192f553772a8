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
        """A relative path is taken relative to `work_dir`, except `./x` and `../x`: relative to where you are."""
        if "://" in path or path.startswith(("/", "./", "../")):
            return path
        return str(Path(self.work_dir) / path)


class GenerateConfig(Strict):
    rows: int = Field(20_000, ge=10)
    seed: int = 7


def _column_name(value: str) -> str:
    if not value.strip() or any(ch in value for ch in "`.\n"):
        raise ValueError(f"{value!r} is not a usable column name (empty, or with a dot, backtick or newline)")
    return value


class SourceConfig(Strict):
    """Raw files: a file, folder or glob, and how to read them."""

    path: str = "raw/default"
    format: Literal["csv", "parquet", "json"] = "csv"
    header: bool = True
    column_names: list[str] | None = None  # the columns of header-less CSV files, in order
    delimiter: str = ","
    quote: str = '"'
    escape: str = "\\"
    encoding: str = "UTF-8"
    comment: str | None = None  # lines starting with this character are skipped
    null_values: list[str] = [""]  # values that mean missing, compared after trimming
    generate_if_missing: GenerateConfig | None = None

    _check_names = field_validator("column_names")(lambda v: v and [_column_name(c) for c in v])

    @model_validator(mode="after")
    def _names_without_header(self) -> SourceConfig:
        if self.format == "csv" and not self.header and not self.column_names:
            raise ValueError("a CSV source without a header needs column_names")
        return self


def normalize_label(value: str) -> str:
    """`' >50K. '` -> `>50K`: labels compared without surrounding spaces, quotes or trailing dots."""
    return value.strip().strip("'\"").strip().rstrip(".").strip()


class LabelConfig(Strict):
    column: str
    classes: list[str] | None = Field(None, min_length=2)  # in class-index order; None: inferred from the data
    positive: str | None = None  # for inferred binary classes: the positive one (index 1)

    @field_validator("classes")
    @classmethod
    def _distinct(cls, classes: list[str] | None) -> list[str] | None:
        if classes is None:
            return None
        classes = [normalize_label(str(c)) for c in classes]
        if len(set(classes)) != len(classes):
            raise ValueError(f"classes must be distinct, got {classes}")
        return classes

    @model_validator(mode="after")
    def _positive_is_a_class(self) -> LabelConfig:
        if (
            self.positive is not None
            and self.classes is not None
            and normalize_label(self.positive) not in self.classes
        ):
            raise ValueError(f"positive {self.positive!r} is not one of the classes {self.classes}")
        return self


class ColumnsConfig(Strict):
    """Which columns are what. Feature columns not declared numeric or categorical are inferred from the
    training data: numeric when every value reads as a number, categorical otherwise."""

    label: LabelConfig
    numeric: list[str] = []
    categorical: list[str] = []
    include: list[str] | None = None  # the candidate features (default: every column but label and id)
    exclude: list[str] = []  # never features
    id: str | None = None  # a row key, never a feature

    _check_names = field_validator("numeric", "categorical", "include", "exclude")(
        lambda v: v and [_column_name(c) for c in v]
    )

    @model_validator(mode="after")
    def _disjoint(self) -> ColumnsConfig:
        named = [*self.numeric, *self.categorical, self.label.column, *([self.id] if self.id else [])]
        repeated = sorted({c for c in named if named.count(c) > 1})
        if repeated:
            raise ValueError(f"columns named more than once: {', '.join(repeated)}")
        return self

    @property
    def declared(self) -> list[str]:
        """Every column the config names, which the data must have."""
        return [*self.numeric, *self.categorical, *(self.include or []), self.label.column, *filter(None, [self.id])]


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


class PrepareConfig(Strict):
    max_quarantined_fraction: float = Field(0.1, ge=0, le=1)  # more rows failing cleaning fail the run


class TrackingConfig(Strict):
    enabled: bool = True
    uri: str | None = None  # default: a SQLite store in work_dir; `databricks` on Databricks
    experiment: str | None = None  # default: speedrun-<name>; a workspace path on Databricks


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
