"""split: membership is a function of the row key, the seed and the fractions only."""

from __future__ import annotations

from collections import Counter

from pyspark.sql import functions as F

from speedrun.config import SplitConfig
from speedrun.context import RunContext
from speedrun.edges.tables import Tables
from speedrun.edges.up_to_date import inputs_fingerprint, kept_silver
from speedrun.progress import jobs_so_far
from speedrun.steps.ingest import ingest
from speedrun.steps.prepare import prepare
from speedrun.steps.split import split
from speedrun.transforms.columns import SPLIT
from speedrun.transforms.splits import SplitResult, assign_splits, class_counts, describe

SPLIT_CFG = SplitConfig(train=0.6, validation=0.2, test=0.2, seed=11)


def keyed_rows(spark, n: int):
    return spark.range(n).select(F.xxhash64("id").alias("_row_key"), "id")


def membership(df) -> dict[int, str]:
    return {r["id"]: r[SPLIT] for r in df.select("id", SPLIT).collect()}


def test_split_is_the_same_whatever_the_partitioning(spark) -> None:
    # GIVEN the same rows in 1 and in 8 partitions
    rows = keyed_rows(spark, 2000)
    # WHEN each is split with the same seed
    one = membership(assign_splits(rows.repartition(1), SPLIT_CFG))
    eight = membership(assign_splits(rows.repartition(8), SPLIT_CFG))
    # THEN every row lands in the same split
    assert one == eight


def test_split_fractions_are_met_and_splits_are_disjoint(spark) -> None:
    result = membership(assign_splits(keyed_rows(spark, 10_000), SPLIT_CFG))
    counts = {name: sum(1 for s in result.values() if s == name) for name in ("train", "validation", "test")}
    assert sum(counts.values()) == 10_000
    assert abs(counts["train"] / 10_000 - 0.6) < 0.02
    assert abs(counts["validation"] / 10_000 - 0.2) < 0.02
    assert abs(counts["test"] / 10_000 - 0.2) < 0.02


def test_another_seed_gives_another_split(spark) -> None:
    rows = keyed_rows(spark, 1000)
    other = SplitConfig(train=0.6, validation=0.2, test=0.2, seed=12)
    assert membership(assign_splits(rows, SPLIT_CFG)) != membership(assign_splits(rows, other))


def test_the_split_step_checks_the_counts_prepare_made_without_counting_again(spark, make_config) -> None:
    # GIVEN a source ingested and prepared on one run context (as `speedrun run` does)
    cfg = make_config("source.generate_if_missing.rows=400")
    with RunContext(spark, cfg) as ctx:
        ingest(ctx)
        prepared = prepare(ctx)
        # WHEN the split step runs on what prepare returned
        before = jobs_so_far()
        result = split(ctx, prepared.counts, current=True)
        launched = jobs_so_far() - before
    # THEN it launched no Spark job, and its counts are silver's, split by split and class by class
    assert launched == 0
    assert result.counts == class_counts(Tables(cfg).read(spark, "silver"), None)
    assert sum(result.rows.values()) == 400


def test_a_silver_kept_up_to_date_brings_the_counts_prepare_made(spark, trained) -> None:
    # GIVEN the shared run's silver, made by `run` from the raw files as they still are
    cfg, _ = trained
    # WHEN a rerun finds it up to date
    kept = kept_silver(spark, cfg, inputs_fingerprint(cfg))
    # THEN it brings silver's rows per split and class as prepare counted them (from silver's commit), which the
    # split step checks without a Spark job
    assert kept is not None
    assert kept.counts == class_counts(Tables(cfg).read(spark, "silver"), None)


def test_the_split_line_names_a_class_without_training_rows() -> None:
    # GIVEN rows per split and class index where class c (index 2) has rows in validation and test only
    counts = {
        "train": Counter({0: 140, 1: 136}),
        "validation": Counter({0: 30, 1: 32, 2: 2}),
        "test": Counter({0: 33, 1: 29, 2: 1}),
    }
    # WHEN the split's line is made THEN it names the class, where its rows are, and what to change
    assert describe(SplitResult(counts), False, ["a", "b", "c"]) == (
        "train 276, validation 64, test 63; class c has no training rows (validation 2, test 1): the model cannot "
        "predict it (add rows of it, or change split.seed)"
    )
    # AND every class with training rows adds nothing
    counts["train"][2] = 1
    assert (
        describe(SplitResult(counts), True, ["a", "b", "c"])
        == "train 277, validation 64, test 63 (test: the given test file)"
    )
