"""Raw files (CSV, Parquet, JSON lines) read as they are, every value a string where the format has no types:
each local file's layout checked first (`layout`), so that no value lands in another column."""

from __future__ import annotations

from functools import reduce

from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from speedrun.config import SourceConfig
from speedrun.edges.files import data_files, require_format
from speedrun.edges.layout import csv_header, group_by_header, parquet_columns, quoted_line_break
from speedrun.errors import SpeedrunError
from speedrun.progress import say
from speedrun.transforms.columns import CORRUPT, RESERVED, SOURCE_FILE, column
from speedrun.transforms.synthetic import synthetic_churn


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
        # every field parsed, whatever columns a query reads: with pruning, Spark's parser flags a line with too
        # many (or too few) fields only when every column is read, and a projection would take it as a good row
        .option("columnPruning", False)
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
    refuse_reserved(order, path if files is None else next(iter(layouts.values()))[0], key)
    frames = []
    for header, group in layouts.items():
        schema = StructType([StructField(n, StringType()) for n in header] + [StructField(CORRUPT, StringType())])
        reader = csv_reader(spark, source, multiline).schema(schema).option("columnNameOfCorruptRecord", CORRUPT)
        rows = reader.option("enforceSchema", not check).load(group).transform(with_source_file)
        as_written = {name.strip(): name for name in header}
        frames.append(rows.select(*[column(as_written[n]).alias(n) for n in order], CORRUPT, SOURCE_FILE))
    return reduce(DataFrame.unionAll, frames)


# The name Spark's JSON reader gives the lines it cannot parse, before they become `_corrupt_record`: one no
# file holds, so that a field of the user's named `_corrupt_record` is refused as reserved, not taken for Spark's
JSON_MALFORMED = "__speedrun_malformed_record__"


def read_json(spark: SparkSession, path: str, key: str, named: str) -> DataFrame:
    """A JSON-lines source's records; a line that is not a JSON record is kept, whole, in `_corrupt_record`.
    `named`: what a line about the files' columns names (the first file, or the source's path)."""
    rows = (
        spark.read.format("json")
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", JSON_MALFORMED)
        .load(path)
    )
    refuse_reserved([c for c in rows.columns if c != JSON_MALFORMED], named, key)
    if JSON_MALFORMED in rows.columns:
        rows = rows.withColumnRenamed(JSON_MALFORMED, CORRUPT)
    return rows.transform(with_source_file)


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
        if source.format == "json":
            return read_json(spark, path, key, files[0] if files else path)
        if files:
            parquet_columns(files, key)
        rows = spark.read.format("parquet").load(path)
        refuse_reserved(rows.columns, path, key)
        return rows.transform(with_source_file)
    except AnalysisException as exc:
        raise SpeedrunError(f"cannot read {path} ({key}) as {source.format}: {str(exc).splitlines()[0]}") from None


def generate(
    spark: SparkSession,
    rows: int,
    seed: int,
    output: str,
    positive_share: float | None = None,
    shift: dict[str, float] | None = None,
) -> int:
    """Write `rows` rows of the synthetic churn data as CSV files (with a header) into the folder `output`;
    `positive_share` and `shift` as `synthetic_churn` takes them."""
    data = synthetic_churn(spark, rows, seed, positive_share, shift)
    data.write.mode("overwrite").option("header", True).csv(output)
    return rows
