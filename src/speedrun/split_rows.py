"""The rows a model is fitted and scored on: each split's rows of silver (and of silver_test, for a given test
file) at the versions asked for, checked as the split step checks them, with the versions they come from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession

from speedrun.config import Config
from speedrun.split import SPLITS, SplitResult, checked_split, rows_of, split_versions
from speedrun.tables import Tables


@dataclass(frozen=True)
class SplitLineage:
    """The versions a run's rows come from."""

    versions: dict[str, int]  # each split's table version (silver's; silver_test's for a given test file)
    silver_version: int
    bronze_version: int | None


@dataclass(frozen=True)
class SplitRows:
    """The rows of each split, their counts, and where they come from (`lineage()`: in `run`, known once the
    writes of bronze and silver are done, which it waits for)."""

    rows: dict[str, DataFrame]
    split: SplitResult
    lineage: Callable[[], SplitLineage]


def bronze_version_of(spark: SparkSession, tables: Tables, silver_version: int) -> int | None:
    """The bronze version silver was cleaned from, through silver versions that only re-split it."""
    lineage = tables.commit(spark, "silver", silver_version).lineage
    for _ in range(100):
        if "silver" not in lineage:
            break
        lineage = tables.commit(spark, "silver", lineage["silver"]).lineage
    return lineage.get("bronze")


def read_split_rows(
    spark: SparkSession,
    cfg: Config,
    versions_of: dict[str, int] | None = None,
    keep: Callable[[DataFrame], DataFrame] = lambda rows: rows,
) -> SplitRows:
    """Silver (and silver_test) as split rows, checked as the split step checks them: at the versions in
    `versions_of` (by role: silver, silver_test, and the bronze silver was cleaned from), else the latest; each
    table's rows passed through `keep` (a cache) once read."""
    tables, versions_of = Tables(cfg), versions_of or {}

    def version(role: str) -> int:  # the one asked for; only then the table's latest (a log read, or a job)
        return versions_of[role] if role in versions_of else tables.version(spark, role)

    silver_version = version("silver")
    silver = keep(tables.read(spark, "silver", silver_version))
    silver_test, versions = None, split_versions(silver_version, None)
    if cfg.test_source is not None:
        versions = split_versions(silver_version, version("silver_test"))
        silver_test = keep(tables.read(spark, "silver_test", versions["test"]))
    rows = {name: rows_of(silver, name, silver_test) for name in SPLITS}
    kept_bronze = "bronze" in versions_of  # the kept silver's bronze, read from the same commit already
    bronze_version = versions_of["bronze"] if kept_bronze else bronze_version_of(spark, tables, silver_version)
    lineage = SplitLineage(versions, silver_version, bronze_version)
    return SplitRows(rows, checked_split(cfg, silver, silver_test), lambda: lineage)
