"""Config sections of the data: where it lives, how raw files are read, which columns are what, the split."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from speedrun.config.base import Strict, _identifier


class StorageConfig(Strict):
    """Where tables and files live. No catalog: local Delta tables under `warehouse_dir`.
    A catalog: Unity Catalog tables `catalog.schema.<name>_<table>`."""

    work_dir: str = "work"
    catalog: str | None = None
    schema_name: str = Field("speedrun", alias="schema")
    warehouse_dir: str = "warehouse"

    _check_names = field_validator("catalog", "schema_name")(_identifier)

    def resolve(self, path: str) -> str:
        """A relative path is taken relative to `work_dir`, except `./x` and `../x`: relative to where you are.
        Made absolute from Python's folder: Spark would take the JVM's (in the warm server, another folder)."""
        if "://" in path or path.startswith("/"):
            return path
        if path.startswith(("./", "../")):
            return str(Path(path).absolute())
        return str((Path(self.work_dir) / path).absolute())


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
    multiline: bool = False  # quoted values may hold line breaks: a record may span lines (slower to read)
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
