"""split: each silver row's split, train / validation / test, kept as silver's `_split` column.

The split is a column, not three more tables: prepare writes it with silver (one write of the rows instead of
two), and `train`, `validation` and `test` are read by name as silver's rows of that split, at silver's version
(`read_split(spark, cfg, "train")`; in SQL, `WHERE _split = 'train'`). With a given test file, `test` is the
`silver_test` table. The `split` step checks that the stored split is the configured one (a new seed or new
fractions: silver is written again with the new split, as one commit) and that each split can be evaluated.

Why not `DataFrame.randomSplit`: it draws per partition, seeding each with `seed + partitionIndex`, so the
same rows land in different splits when the input's partitioning or the number of cores changes. Here a
row's split is a function of its stable row key, the seed and the fractions only: a hash of (key, seed)
gives a uniform number in [0, 1) that is cut at the cumulative fractions, exactly as randomSplit cuts its
per-row draws. Identical rows share a key, so a duplicated row cannot leak from train into test.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from speedrun.config import SplitConfig
from speedrun.errors import SpeedrunError
from speedrun.transforms.columns import LABEL, ROW_KEY, SPLIT
from speedrun.transforms.contract import contract_of

SPLITS = ("train", "validation", "test")


def split_draw(seed: int) -> Column:
    """A uniform number in [0, 1) per row, a pure function of the row key and the seed."""
    return F.pmod(F.xxhash64(F.col(ROW_KEY), F.lit(seed)), F.lit(2**53)).cast("double") / float(2**53)


def split_of(split: SplitConfig, given_test: bool = False) -> Column:
    """Each row's split by its draw. With a given test file, every row is train or validation, in the
    proportion of their fractions."""
    draw = split_draw(split.seed)
    train_cut, validation_cut = split.train, split.train + split.validation
    if given_test:
        train_cut, validation_cut = split.train / validation_cut, 2.0
    return F.when(draw < train_cut, F.lit("train")).when(draw < validation_cut, F.lit("validation")).otherwise("test")


def assign_splits(df: DataFrame, split: SplitConfig, given_test: bool = False) -> DataFrame:
    """`df` with its `_split` column (set again if it has one)."""
    return df.withColumn(SPLIT, split_of(split, given_test))


def rows_of(silver: DataFrame, name: str, silver_test: DataFrame | None = None) -> DataFrame:
    """The rows of split `name`: silver's rows tagged so, or with a given test file, for test, silver_test's."""
    if name == "test" and silver_test is not None:
        return silver_test
    return silver.where(F.col(SPLIT) == name)


@dataclass(frozen=True)
class SplitResult:
    """Rows per split and class."""

    counts: dict[str, Counter]

    @property
    def rows(self) -> dict[str, int]:
        return {name: sum(self.counts.get(name, Counter()).values()) for name in SPLITS}


def class_counts(silver: DataFrame, silver_test: DataFrame | None) -> dict[str, Counter]:
    """Rows per split and class index, in one pass over each table."""
    counts: dict[str, Counter] = {name: Counter() for name in SPLITS}
    for row in silver.groupBy(SPLIT, LABEL).count().collect():
        counts[row[SPLIT]][int(row[LABEL])] += row["count"]
    if silver_test is not None:
        counts["test"] = Counter({int(r[LABEL]): r["count"] for r in silver_test.groupBy(LABEL).count().collect()})
    return counts


def require_evaluable(counts: dict[str, Counter], classes: list[str], with_validation: bool) -> None:
    """Stop before training when the test split, or a validation split that was asked for, cannot be scored:
    no rows, or rows of one class (areas under the curves and recall are undefined)."""
    checked = ["test"] + (["validation"] if with_validation else [])
    for name in checked:
        present = [classes[k] for k, n in sorted(counts[name].items()) if n]
        if len(present) < 2:
            shown = ", ".join(f"{classes[k]} {n:,}" for k, n in sorted(counts[name].items())) or "no rows"
            every = "; ".join(
                f"{s}: " + (", ".join(f"{classes[k]} {n:,}" for k, n in sorted(counts[s].items())) or "no rows")
                for s in SPLITS
            )
            raise SpeedrunError(
                f"the {name} split cannot be evaluated: it holds {shown} ({every}); it needs rows of at least two "
                f"classes: raise split.{name}, change split.seed, or add rows of the rarer class"
            )


def split_is_stale(silver: DataFrame, split: SplitConfig, given_test: bool) -> bool:
    """Whether any silver row's stored split is not the one `split` gives it (or silver has none)."""
    if SPLIT not in silver.columns:
        return True
    return not silver.where(~F.col(SPLIT).eqNullSafe(split_of(split, given_test))).isEmpty()


def describe(result: SplitResult, given_test: bool, classes: list[str] | None = None) -> str:
    """The split's line: rows per split, and each of `classes` the train split lacks (the model cannot predict
    it)."""
    line = ", ".join(f"{name} {n:,}" for name, n in result.rows.items())
    line += " (test: the given test file)" if given_test else ""
    for k, name in enumerate(classes or []):
        elsewhere = [f"{s} {result.counts[s][k]:,}" for s in SPLITS[1:] if result.counts.get(s, Counter()).get(k)]
        if elsewhere and not result.counts.get("train", Counter()).get(k):
            line += (
                f"; class {name} has no training rows ({', '.join(elsewhere)}): the model cannot predict it "
                "(add rows of it, or change split.seed)"
            )
    return line


def checked_split(silver: DataFrame, silver_test: DataFrame | None, with_validation: bool) -> SplitResult:
    """The split's counts, checked: each split to be evaluated (validation too, `with_validation`) holds two
    classes or more."""
    return checked_counts(class_counts(silver, silver_test), contract_of(silver).classes, with_validation)


def checked_counts(counts: dict[str, Counter], classes: list[str], with_validation: bool) -> SplitResult:
    """Counts of rows per split and class index, checked as `checked_split` checks them."""
    require_evaluable(counts, classes, with_validation)
    return SplitResult(counts)
