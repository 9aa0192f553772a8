"""ingest: raw files (CSV, Parquet, JSON lines) -> the bronze Delta table, every value kept as read, plus
ingest metadata. A separate test source, when configured, goes to `<name>_bronze_test` the same way."""

from __future__ import annotations

from datetime import datetime, timezone
from functools import partial
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from speedrun.config import Config, SourceConfig
from speedrun.context import RunContext
from speedrun.edges.delta_log import Commit
from speedrun.edges.files import data_files
from speedrun.edges.raw import generate, path_has_files, read_source
from speedrun.errors import SpeedrunError
from speedrun.progress import step
from speedrun.transforms.checks import require_columns
from speedrun.transforms.columns import INGESTED_AT

IN_HAND_BYTES = 32 * 2**20  # raw files up to this size are cleaned as read; larger ones from bronze, once written


def with_ingest_time(df: DataFrame, at: datetime) -> DataFrame:
    """`_ingested_at`, one value for the whole ingest: the same rows read twice (written to bronze, and cleaned
    for silver in the same run) carry the same time."""
    return df.withColumn(INGESTED_AT, F.lit(at))


def trim_column_names(df: DataFrame) -> DataFrame:
    return df.toDF(*[name.strip() for name in df.columns])


def data_columns(df: DataFrame) -> list[str]:
    return [c for c in df.columns if not c.startswith("_")]


def bronze_rows(spark: SparkSession, cfg: Config, source: SourceConfig, key: str, at: datetime) -> DataFrame:
    """The rows of one configured source as they go to bronze (generated first where configured and missing)."""
    path = cfg.storage.resolve(source.path)
    if source.generate_if_missing and not path_has_files(spark, path):
        with step("generate") as progress:
            generate(spark, source.generate_if_missing.rows, source.generate_if_missing.seed, path)
            progress.done(f"{source.generate_if_missing.rows:,} rows -> {path}")
    bronze = (
        read_source(spark, source, path, key).transform(trim_column_names).transform(partial(with_ingest_time, at=at))
    )
    require_columns(bronze, cfg.columns.declared, where=path)
    if bronze.isEmpty():
        raise SpeedrunError(f"source {path} ({key}) has no rows")
    return bronze


def bronze_frames(spark: SparkSession, cfg: Config) -> dict[str, DataFrame]:
    """The rows of the configured source (`bronze`) and of a given test file (`bronze_test`) as they go to
    bronze, checked: both exist, hold rows and the columns the config names, and the same columns."""
    at = datetime.now(timezone.utc)
    frames = {"bronze": bronze_rows(spark, cfg, cfg.source, "source.path", at)}
    if cfg.test_source:
        frames["bronze_test"] = bronze_rows(spark, cfg, cfg.test_source, "test_source.path", at)
        train_columns, test_columns = data_columns(frames["bronze"]), data_columns(frames["bronze_test"])
        if train_columns != test_columns:
            raise SpeedrunError(
                "the test file's columns differ from the training file's: "
                f"{cfg.storage.resolve(cfg.test_source.path)} has "
                f"{', '.join(test_columns)}; expected {', '.join(train_columns)}"
            )
    return frames


def small(cfg: Config, source: SourceConfig) -> bool:
    """Whether a source's files are local and small enough to clean as read (parsing a large CSV again costs
    more than reading bronze's Parquet files)."""
    files = data_files(cfg.storage.resolve(source.path))
    return files is not None and sum(Path(f).stat().st_size for f in files) <= IN_HAND_BYTES


def ingest(ctx: RunContext) -> Commit | None:
    """Ingest the configured source into `<name>_bronze` (and a test source into `<name>_bronze_test`, written
    at the same time); bronze's commit, or None while it is written in the background (in `run`). Small files'
    rows stay in hand for prepare."""
    with step("ingest") as progress:
        frames = bronze_frames(ctx.spark, ctx.cfg)
        sources = {"bronze": ctx.cfg.source, "bronze_test": ctx.cfg.test_source}
        for role, rows in frames.items():
            if small(ctx.cfg, sources[role]):
                ctx.hold(role, rows, cache=False)
        ctx.write_all(frames)
        progress.done(describe(ctx, list(frames)))
    return None if ctx.background else ctx.commit("bronze")


def describe(ctx: RunContext, roles: list[str]) -> str:
    if ctx.background:
        return f"{', '.join(roles)} being written in the background"
    return "; ".join(
        f"{ctx.commit(role).rows:,} rows -> {ctx.tables.location(role)} v{ctx.commit(role).version}" for role in roles
    )
