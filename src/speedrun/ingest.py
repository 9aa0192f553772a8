"""ingest: raw files (CSV, Parquet, JSON lines) -> the bronze Delta table, every value kept as read, plus
ingest metadata. A separate test source, when configured, goes to `<name>_bronze_test` the same way."""

from __future__ import annotations

from datetime import datetime, timezone
from functools import partial, reduce

from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from speedrun.checks import require_columns
from speedrun.columns import CORRUPT, INGESTED_AT, RESERVED, SOURCE_FILE, column
from speedrun.config import Config, SourceConfig
from speedrun.delta_log import Commit
from speedrun.errors import SpeedrunError
from speedrun.files import data_files, require_format
from speedrun.generate import generate
from speedrun.layout import csv_header, group_by_header, parquet_columns, quoted_line_break
from speedrun.progress import say, step
from speedrun.tables import Tables


def path_has_files(spark: SparkSession, path: str) -> bool:
    """Whether `path` (a file, a folder or a glob) matches anything: listed in Python where it is local (no
    JVM gateway, which standard access mode and Spark Connect forbid), else by asking Spark to read it."""
    files = data_files(path)
    if files is not None:
        return bool(files)
    try:
        spark.read.format("binaryFile").load(path).limit(1).count()
    except AnalysisException:
        return False
    return True


def remote_csv_names(spark: SparkSession, source: SourceConfig, path: str) -> list[str]:
    """The columns on a remote CSV source's first line, as Spark reads them (one small Spark job)."""
    return csv_reader(spark, source).load(path).columns


def csv_reader(spark: SparkSession, source: SourceConfig, multiline: bool | None = None):
    return (
        spark.read.format("csv")
        .option("header", source.header)
        .option("sep", source.delimiter)
        .option("quote", source.quote)
        .option("escape", source.escape)
        .option("encoding", source.encoding)
        .option("comment", source.comment or "\u0000")
        .option("multiLine", source.multiline if multiline is None else multiline)
        .option("mode", "PERMISSIVE")
    )


def csv_layouts(source: SourceConfig, files: list[str], key: str) -> dict[tuple[str, ...], list[str]]:
    """The local files of each header (checked: every file has the first file's columns, in any order)."""
    if source.column_names:
        return {tuple(source.column_names): files}
    return group_by_header(files, [csv_header(file, source) for file in files], key)


def needs_multiline(source: SourceConfig, files: list[str], key: str) -> bool:
    """Whether the files must be read as records: `source.multiline`, or a quoted value with a line break found
    in a file (read line by line, its record would become two malformed rows)."""
    if source.multiline:
        return True
    for file in files:
        line = quoted_line_break(file, source)
        if line is not None:
            say(
                f"ingest    {file} line {line}: a quoted value holds a line break; reading {key} as records "
                f"(set {key.rsplit('.', 1)[0]}.multiline: true to say so)"
            )
            return True
    return False


def with_source_file(df: DataFrame) -> DataFrame:
    return df.select("*", F.col("_metadata.file_path").alias(SOURCE_FILE))


def refuse_reserved(names: list[str], path: str, key: str) -> None:
    """One line naming a column of the files that has the name of one speedrun adds (every other name works)."""
    taken = [name for name in names if name.strip() in RESERVED]
    if taken:
        raise SpeedrunError(
            f"{path} ({key}) has a column named {', '.join(taken)}, a name speedrun gives its own columns "
            f"({', '.join(RESERVED)}): rename it in the files"
        )


def read_csv(spark: SparkSession, source: SourceConfig, path: str, key: str) -> DataFrame:
    """A CSV source's rows, columns aligned by name across files whose headers list them in other orders."""
    files = data_files(path)
    if files is None:  # remote: Spark checks each file's header against the first one's (enforceSchema off)
        names = source.column_names or remote_csv_names(spark, source, path)
        layouts, multiline, check = {tuple(names): [path]}, source.multiline, not source.column_names
    else:
        layouts, multiline, check = csv_layouts(source, files, key), needs_multiline(source, files, key), False
    order = [name.strip() for name in next(iter(layouts))]
    refuse_reserved(order, path, key)
    frames = []
    for header, group in layouts.items():
        schema = StructType([StructField(n, StringType()) for n in header] + [StructField(CORRUPT, StringType())])
        reader = csv_reader(spark, source, multiline).schema(schema).option("columnNameOfCorruptRecord", CORRUPT)
        rows = reader.option("enforceSchema", not check).load(group).transform(with_source_file)
        as_written = {name.strip(): name for name in header}
        frames.append(rows.select(*[column(as_written[n]).alias(n) for n in order], CORRUPT, SOURCE_FILE))
    return reduce(DataFrame.unionAll, frames)


def read_source(spark: SparkSession, source: SourceConfig, path: str, key: str = "source.path") -> DataFrame:
    """Read raw files without inferring types: casting is prepare's job, with bad values quarantined.
    A CSV line with the wrong number of fields is kept, whole, in `_corrupt_record`."""
    if not path_has_files(spark, path):
        raise SpeedrunError(f"source not found: {path} ({key}): no file matches")
    files = data_files(path)
    require_format(files or [], source.format, key)
    try:
        if source.format == "csv":
            return read_csv(spark, source, path, key)
        if source.format == "parquet" and files:
            parquet_columns(files, key)
        rows = spark.read.format(source.format).load(path)
        refuse_reserved(rows.columns, path, key)
        return rows.transform(with_source_file)
    except AnalysisException as exc:
        raise SpeedrunError(f"cannot read {path} ({key}) as {source.format}: {str(exc).splitlines()[0]}") from None


def with_ingest_time(df: DataFrame, at: datetime) -> DataFrame:
    """`_ingested_at`, one value for the whole ingest: the same rows read twice (written to bronze, and cleaned
    for silver in the same run) carry the same time."""
    return df.withColumn(INGESTED_AT, F.lit(at))


def trim_column_names(df: DataFrame) -> DataFrame:
    return df.toDF(*[name.strip() for name in df.columns])


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


def data_columns(df: DataFrame) -> list[str]:
    return [c for c in df.columns if not c.startswith("_")]


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


def describe_ingest(tables: Tables, written: dict[str, Commit]) -> str:
    outcome = f"{written['bronze'].rows:,} rows -> {tables.location('bronze')} v{written['bronze'].version}"
    if "bronze_test" in written:
        test = written["bronze_test"]
        outcome += f"; test {test.rows:,} rows -> {tables.location('bronze_test')} v{test.version}"
    return outcome


def ingest(spark: SparkSession, cfg: Config) -> Commit:
    """Ingest the configured source into `<name>_bronze` (and a test source into `<name>_bronze_test`, written
    at the same time); returns bronze's commit (version, rows)."""
    tables = Tables(cfg)
    with step("ingest") as progress:
        written = tables.write_all({role: (df, None) for role, df in bronze_frames(spark, cfg).items()})
        progress.done(describe_ingest(tables, written))
    return written["bronze"]
