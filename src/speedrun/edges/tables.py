"""Delta tables by role: local path-based tables, or Unity Catalog tables, chosen by configuration only.

Every write is one Delta commit (an atomic overwrite or append), so a failed run leaves each table at its last
good version and a rerun of the same input leaves the same contents. Each write tags its commit with a token of
its own (in the commit's `userMetadata`, beside the versions of the inputs it was made from), and finds its commit
by that token (`delta_log`): never "the latest commit", which on Unity Catalog may be Databricks' own (an OPTIMIZE
between tasks).
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession

from speedrun.config import Config
from speedrun.edges.delta_log import WRITE_TOKEN, Commit, DeltaLog
from speedrun.edges.files import local_path
from speedrun.errors import SpeedrunError
from speedrun.transforms.columns import ROLES, Role
from speedrun.transforms.splits import rows_of

# Delta's optimistic concurrency: another writer committed to the table between this write's read and commit
CONFLICT = re.compile(r"Concurrent\w*Exception|(Metadata|Protocol)ChangedException|DELTA_CONCURRENT_\w+")
# Delta keeps names with these characters only under column mapping (by name), which speedrun then turns on
NEEDS_COLUMN_MAPPING = re.compile(r"[ ,;{}()\n\t=]")
COLUMN_MAPPING = {"delta.columnMapping.mode": "name"}


@dataclass(frozen=True)
class Tables:
    """Names and I/O of the tables of one configured dataset (`<name>_<role>`)."""

    cfg: Config

    @property
    def in_catalog(self) -> bool:
        return self.cfg.storage.catalog is not None

    def location(self, role: Role) -> str:
        """A Unity Catalog table name, or the folder of a local Delta table."""
        if role not in ROLES:
            raise ValueError(f"no table role {role!r}: the roles are {', '.join(ROLES)}")
        storage, table = self.cfg.storage, f"{self.cfg.name}_{role}"
        if self.in_catalog:
            return f"{storage.catalog}.{storage.schema_name}.{table}"
        folder = storage.resolve(storage.warehouse_dir)
        if local_path(folder) is not None and not folder.startswith(("/", "file:")):
            folder = str(Path(folder).absolute())  # from Python's folder: the JVM may have started in another
        return f"{folder}/{storage.schema_name}/{table}"

    def sql_name(self, role: Role) -> str:
        """The table's name in SQL: a catalog name, or `delta.`<folder>``."""
        return self.location(role) if self.in_catalog else f"delta.`{self.location(role)}`"

    def log(self, spark: SparkSession, role: Role) -> DeltaLog:
        local = None if self.in_catalog else local_path(self.location(role))
        return DeltaLog(spark, self.sql_name(role), None if local is None else Path(local))

    def exists(self, spark: SparkSession, role: Role) -> bool:
        if self.in_catalog:
            return spark.catalog.tableExists(self.location(role))
        local = local_path(self.location(role))
        if local is not None:
            log = Path(local) / "_delta_log"
            return bool(self.log(spark, role).versions()) or (log / "_last_checkpoint").is_file()
        from delta.tables import DeltaTable

        return DeltaTable.isDeltaTable(spark, self.location(role))

    def require(self, spark: SparkSession, role: Role) -> None:
        if not self.exists(spark, role):
            raise SpeedrunError(f"table {self.location(role)} does not exist yet: run the step that writes it")

    def read(self, spark: SparkSession, role: Role, version: int | None = None) -> DataFrame:
        self.require(spark, role)
        reader = spark.read.format("delta")
        if version is not None:
            reader = reader.option("versionAsOf", version)
        return reader.table(self.location(role)) if self.in_catalog else reader.load(self.location(role))

    def commit(self, spark: SparkSession, role: Role, version: int | None = None) -> Commit:
        """The commit that made `version`, read from the Delta log, not the data; by default speedrun's latest
        write: a later commit of someone else's (Databricks' OPTIMIZE of a managed table) changes no rows and
        records no lineage."""
        self.require(spark, role)
        if version is not None:
            found = self.log(spark, role).entries(version)
            if not found:
                raise SpeedrunError(f"table {self.location(role)} has no version {version} in its log (vacuumed?)")
            return found[0][0]
        entries = self.log(spark, role).entries()
        ours = [commit for commit, token in entries if token is not None]
        if not ours and not entries:
            raise SpeedrunError(f"table {self.location(role)} has no commit in its log")
        return ours[0] if ours else entries[0][0]

    def version(self, spark: SparkSession, role: Role) -> int:
        return self.commit(spark, role).version

    def commit_of_write(self, spark: SparkSession, role: Role, token: str) -> Commit:
        """The commit a write tagged with `token` made, however many commits others made since."""
        for commit, written_by in self.log(spark, role).entries():
            if written_by == token:
                return commit
        raise SpeedrunError(f"the commit just written to {self.location(role)} is not in its recent history")

    def _save(
        self, df: DataFrame, role: Role, mode: str, lineage: dict[str, int | str] | None, **options: str
    ) -> Commit:
        """One commit of `df` to `role`, tagged so that it can be found again; returns it."""
        token = uuid.uuid4().hex
        metadata = json.dumps({**(lineage or {}), WRITE_TOKEN: token}, sort_keys=True)
        mapped = any(NEEDS_COLUMN_MAPPING.search(name) for name in df.columns)
        writer = df.write.format("delta").mode(mode).option("userMetadata", metadata).options(**options)
        try:
            self._write_with(writer.options(**COLUMN_MAPPING) if mapped else writer, df.sparkSession, role, mapped)
        except Exception as exc:
            conflict = conflict_error(self.location(role), exc)
            if conflict is None:
                raise
            raise conflict from None
        return self.commit_of_write(df.sparkSession, role, token)

    def _write_with(self, writer, spark: SparkSession, role: Role, mapped: bool) -> None:
        """Run `writer` on `role`; a table made before its columns needed column mapping gets it first."""
        save = writer.saveAsTable if self.in_catalog else writer.save
        try:
            save(self.location(role))
        except Exception as exc:
            if not (mapped and "DELTA_INVALID_CHARACTERS_IN_COLUMN_NAMES" in str(exc)):
                raise
            spark.sql(f"ALTER TABLE {self.sql_name(role)} SET TBLPROPERTIES ('delta.columnMapping.mode' = 'name')")
            save(self.location(role))

    def write(
        self, df: DataFrame, role: Role, mode: str = "overwrite", lineage: dict[str, int | str] | None = None
    ) -> Commit:
        """Overwrite (atomically, schema included) or append, as one commit that records the versions of
        the inputs it was made from (`lineage`, in the commit's userMetadata)."""
        options = {"overwriteSchema": "true"} if mode == "overwrite" else {}
        return self._save(df, role, mode, lineage, **options)

    def replace(self, df: DataFrame, role: Role, predicate: str, evolve_schema: bool = False) -> int:
        """Replace the rows matching the SQL `predicate` by `df`'s in one commit (`replaceWhere`); returns the
        rows written: `df`'s, counted before the write (a predicate overwrite's commit holds no row count when
        file statistics are off, as in local sessions; reading the table back costs a snapshot and a scan; and
        an `Observation` leaves the session unable to ship a fitted model's closure: Spark 4.0's
        ObservationManager is not serializable). `df` is deterministic, and persisted by a caller that made it
        at a cost. The caller validates what goes into `predicate`."""
        rows = df.count()
        self.replace_where(df, role, predicate, evolve_schema)
        return rows

    def replace_where(self, df: DataFrame, role: Role, predicate: str, evolve_schema: bool = False) -> Commit:
        """`replace`, returning the commit; `evolve_schema` lets `df` bring new columns."""
        if not self.exists(df.sparkSession, role):
            return self.write(df, role, mode="append")
        options = {"replaceWhere": predicate, **({"mergeSchema": "true"} if evolve_schema else {})}
        return self._save(df, role, "overwrite", None, **options)

    def upsert(self, df: DataFrame, role: Role, key: str, value: str, new: bool = False) -> None:
        """Put `df`'s rows, whose `key` is `value`, in place of the table's rows with that key, in one commit: a
        rerun replaces its own record; a record with new columns (a newer speedrun) extends the table. A
        `replaceWhere` overwrite (a delete and an insert in one commit); the few rows of a record in one file.
        `new`: no row can hold `value` yet (a run id this process made up), so the rows are appended, which
        spares Delta the search of every file for rows to replace."""
        if new and self.exists(df.sparkSession, role):
            self._save(df.coalesce(1), role, "append", None, mergeSchema="true")
            return
        self.replace_where(df.coalesce(1), role, f"`{key}` = {sql_string(value)}", evolve_schema=True)


def conflict_error(location: str, exc: Exception) -> SpeedrunError | None:
    """The one line a user sees when Delta refused a write because another writer committed first; None for
    any other failure."""
    conflict = CONFLICT.search(str(exc))
    if conflict is None:
        return None
    return SpeedrunError(
        f"another run is writing {location} ({conflict.group(0)}): the table stays at its last good version; "
        "run again once the other run is done"
    )


def sql_string(value: str) -> str:
    """`value` as a Spark SQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def read_split(spark: SparkSession, cfg: Config, name: str, version: int | None = None) -> DataFrame:
    """The rows of split `name`: silver's (at `version`, default the latest) tagged so; with a given test file,
    for test, silver_test (at `version`)."""
    tables = Tables(cfg)
    if name == "test" and cfg.test_source is not None:
        return tables.read(spark, "silver_test", version)
    return rows_of(tables.read(spark, "silver", version), name)
