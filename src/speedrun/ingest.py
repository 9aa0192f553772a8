"""ingest: raw files (CSV, Parquet, JSON lines) -> the bronze Delta table, every value kept as read, plus
ingest metadata. A separate test source, when configured, goes to `<name>_bronze_test` the same way."""

from __future__ import annotations

from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from speedrun.columns import CORRUPT, INGESTED_AT, SOURCE_FILE
from speedrun.config import Config, SourceConfig
from speedrun.errors import SpeedrunError
from speedrun.generate import generate
from speedrun.progress import step
from speedrun.tables import Commit, Tables
from speedrun.validate import require_columns


def path_has_files(spark: SparkSession, path: str) -> bool:
    """Whether `path` (a file, a folder or a glob, on any Hadoop file system) matches anything."""
    jvm = spark._jvm
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    matches = hadoop_path.getFileSystem(spark._jsc.hadoopConfiguration()).globStatus(hadoop_path)
    return matches is not None and len(matches) > 0


def csv_reader(spark: SparkSession, source: SourceConfig):
    return (
        spark.read.format("csv")
        .option("header", source.header)
        .option("sep", source.delimiter)
        .option("quote", source.quote)
        .option("escape", source.escape)
        .option("encoding", source.encoding)
        .option("comment", source.comment or "\u0000")
        .option("mode", "PERMISSIVE")
    )


def read_source(spark: SparkSession, source: SourceConfig, path: str, key: str = "source.path") -> DataFrame:
    """Read raw files without inferring types: casting is prepare's job, with bad values quarantined.
    A CSV line with the wrong number of fields is kept, whole, in `_corrupt_record`."""
    if not path_has_files(spark, path):
        raise SpeedrunError(f"source not found: {path} ({key}): no file matches")
    try:
        if source.format == "csv":
            names = source.column_names or [c.strip() for c in csv_reader(spark, source).load(path).columns]
            schema = StructType([StructField(n, StringType()) for n in names] + [StructField(CORRUPT, StringType())])
            df = csv_reader(spark, source).schema(schema).option("columnNameOfCorruptRecord", CORRUPT).load(path)
        else:
            df = spark.read.format(source.format).load(path)
    except AnalysisException as exc:
        raise SpeedrunError(f"cannot read {path} ({key}) as {source.format}: {str(exc).splitlines()[0]}") from None
    return df.select("*", F.col("_metadata.file_path").alias(SOURCE_FILE))


def with_ingest_time(df: DataFrame) -> DataFrame:
    return df.withColumn(INGESTED_AT, F.current_timestamp())


def trim_column_names(df: DataFrame) -> DataFrame:
    return df.toDF(*[name.strip() for name in df.columns])


def bronze_rows(spark: SparkSession, cfg: Config, source: SourceConfig, key: str) -> DataFrame:
    """The rows of one configured source as they go to bronze (generated first where configured and missing)."""
    path = cfg.storage.resolve(source.path)
    if source.generate_if_missing and not path_has_files(spark, path):
        with step("generate") as progress:
            generate(spark, source.generate_if_missing.rows, source.generate_if_missing.seed, path)
            progress.done(f"{source.generate_if_missing.rows:,} rows -> {path}")
    bronze = read_source(spark, source, path, key).transform(trim_column_names).transform(with_ingest_time)
    require_columns(bronze, cfg.columns.declared, where=path)
    if bronze.isEmpty():
        raise SpeedrunError(f"source {path} ({key}) has no rows")
    return bronze


def data_columns(df: DataFrame) -> list[str]:
    return [c for c in df.columns if not c.startswith("_")]


def ingest(spark: SparkSession, cfg: Config) -> Commit:
    """Ingest the configured source into `<name>_bronze` (and a test source into `<name>_bronze_test`, written
    at the same time); returns bronze's commit (version, rows)."""
    tables = Tables(cfg)
    with step("ingest") as progress:
        rows = {"bronze": bronze_rows(spark, cfg, cfg.source, "source.path")}
        if cfg.test_source:
            rows["bronze_test"] = bronze_rows(spark, cfg, cfg.test_source, "test_source.path")
            train_columns, test_columns = data_columns(rows["bronze"]), data_columns(rows["bronze_test"])
            if train_columns != test_columns:
                raise SpeedrunError(
                    "the test file's columns differ from the training file's: "
                    f"{cfg.storage.resolve(cfg.test_source.path)} has "
                    f"{', '.join(test_columns)}; expected {', '.join(train_columns)}"
                )
        written = tables.write_all({role: (df, None) for role, df in rows.items()})
        outcome = f"{written['bronze'].rows:,} rows -> {tables.location('bronze')} v{written['bronze'].version}"
        if cfg.test_source:
            test = written["bronze_test"]
            outcome += f"; test {test.rows:,} rows -> {tables.location('bronze_test')} v{test.version}"
        progress.done(outcome)
    return written["bronze"]
