"""split: silver -> seeded train / validation / test Delta tables.

Why not `DataFrame.randomSplit`: it draws per partition, seeding each with `seed + partitionIndex`, so the
same rows land in different splits when the input's partitioning or the number of cores changes. Here a
row's split is a function of its stable row key, the seed and the fractions only: a hash of (key, seed)
gives a uniform number in [0, 1) that is cut at the cumulative fractions, exactly as randomSplit cuts its
per-row draws. Identical rows share a key, so a duplicated row cannot leak from train into test.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from speedrun.config import Config, SplitConfig
from speedrun.prepare import ROW_KEY
from speedrun.progress import step
from speedrun.tables import Commit, Tables

SPLITS = ("train", "validation", "test")
SPLIT = "_split"


def split_draw(seed: int) -> Column:
    """A uniform number in [0, 1) per row, a pure function of the row key and the seed."""
    return F.pmod(F.xxhash64(F.col(ROW_KEY), F.lit(seed)), F.lit(2**53)).cast("double") / float(2**53)


def assign_splits(df: DataFrame, split: SplitConfig) -> DataFrame:
    draw = split_draw(split.seed)
    return df.withColumn(
        SPLIT,
        F.when(draw < split.train, F.lit("train"))
        .when(draw < split.train + split.validation, F.lit("validation"))
        .otherwise(F.lit("test")),
    )


@dataclass(frozen=True)
class SplitResult:
    commits: dict[str, Commit]
    silver_version: int

    @property
    def versions(self) -> dict[str, int]:
        return {name: commit.version for name, commit in self.commits.items()}


def split(spark: SparkSession, cfg: Config, silver_version: int | None = None) -> SplitResult:
    """Split silver (at `silver_version`, default the latest) into the train, validation and test tables."""
    tables = Tables(cfg)
    with step("split") as progress:
        silver_version = tables.version(spark, "silver") if silver_version is None else silver_version
        tagged = assign_splits(tables.read(spark, "silver", silver_version), cfg.split).persist()
        try:
            commits = {
                name: tables.write(
                    tagged.where(F.col(SPLIT) == name).drop(SPLIT), name, lineage={"silver": silver_version}
                )
                for name in SPLITS
            }
        finally:
            tagged.unpersist()
        progress.done(", ".join(f"{name} {c.rows:,}" for name, c in commits.items()))
    return SplitResult(commits, silver_version)
