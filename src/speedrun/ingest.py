"""ingest: raw files (CSV or Parquet) -> the bronze Delta table, every value kept as read, plus ingest metadata."""

from __future__ import annotations

from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from speedrun.config import Config, SourceConfig
from speedrun.errors import SpeedrunError
from speedrun.generate import generate
from speedrun.progress import step
from speedrun.tables import Commit, Tables
from speedrun.validate import require_columns

METADATA_COLUMNS = ("_source_file", "_ingested_at")


def path_has_files(spark: SparkSession, path: str) -> bool:
    """Whether `path` (a file, a folder or a glob, on any Hadoop file system) matches anything."""
    jvm = spark._jvm
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    matches = hadoop_path.getFileSystem(spark._jsc.hadoopConfiguration()).globStatus(hadoop_path)
    return matches is not None and len(matches) > 0


def read_source(spark: SparkSession, source: SourceConfig, path: str) -> DataFrame:
    """Read raw files without inferring types: casting is prepare's job, with bad values quarantined."""
    reader = spark.read.format(source.format)
    if source.format == "csv":
        reader = reader.option("header", source.header).option("sep", source.delimiter)
    try:
        df = reader.load(path)
    except AnalysisException as exc:
        if "PATH_NOT_FOUND" in str(exc) or "Path does not exist" in str(exc):
            raise SpeedrunError(f"source not found: {path} (source.path)") from None
        raise
    return df.select("*", F.col("_metadata.file_path").alias("_source_file"))


def with_ingest_time(df: DataFrame) -> DataFrame:
    return df.withColumn("_ingested_at", F.current_timestamp())


def trim_column_names(df: DataFrame) -> DataFrame:
    return df.toDF(*[name.strip() for name in df.columns])


def ingest(spark: SparkSession, cfg: Config) -> Commit:
    """Ingest the configured source into `<name>_bronze`; returns its commit (version, rows)."""
    tables = Tables(cfg)
    path = cfg.storage.resolve(cfg.source.path)
    if cfg.source.generate_if_missing and not path_has_files(spark, path):
        with step("generate") as progress:
            rows = generate(spark, cfg.source.generate_if_missing.rows, cfg.source.generate_if_missing.seed, path)
            progress.done(f"{rows:,} rows -> {path}")
    with step("ingest") as progress:
        bronze = read_source(spark, cfg.source, path).transform(trim_column_names).transform(with_ingest_time)
        require_columns(
            bronze,
            [*cfg.columns.features, cfg.columns.label.column, *filter(None, [cfg.columns.id])],
            where=path,
        )
        if bronze.isEmpty():
            raise SpeedrunError(f"source {path} has no rows")
        written = tables.write(bronze, "bronze")
        progress.done(f"{written.rows:,} rows -> {tables.location('bronze')} v{written.version}")
    return written
