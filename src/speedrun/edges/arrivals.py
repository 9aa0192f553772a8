"""Batches as they arrive: each a folder of its own under the scoring folder (`raw/score/<batch id>/`), the
folder's name its batch id. `<name>_scored_batches` is their log, appended to and never rewritten: a `scored`
row (the folder's files, by name, size and modification time; the rows scored and quarantined; the model
version) after every write of the batch, and a `judged` row when the drift task gave its verdict. A batch is
pending when its folder's files differ from those of its latest `scored` row (new, or files added or replaced
since), so a rerun over the same files scores nothing, and a retry after a failure scores what the failed try
did not finish. On Databricks the folder is the volume's, where Lakeflow Jobs' file-arrival trigger watches."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql.types import LongType, StringType, StructField, StructType, TimestampType

from speedrun.edges.drift_report import kept_drift
from speedrun.edges.files import data_files, local_path
from speedrun.edges.tables import Tables
from speedrun.errors import SpeedrunError
from speedrun.transforms.batch_drift import shift_error

BATCH_ID = re.compile(r"^[A-Za-z0-9_.:/=+-]+$")  # no quote: a batch id goes into a replaceWhere predicate
LOG_SCHEMA = StructType(
    [
        StructField("batch_id", StringType(), False),
        StructField("event", StringType(), False),  # scored | judged
        StructField("files", StringType(), True),  # the folder's files, hashed (scored)
        StructField("scored", LongType(), True),
        StructField("quarantined", LongType(), True),
        StructField("model_version", StringType(), True),
        StructField("verdict", StringType(), True),  # judged: calm | drifted | not measured
        StructField("at", TimestampType(), False),
    ]
)


def checked_batch_id(batch_id: str, where: str = "") -> str:
    """`batch_id`, or one line saying which characters a batch id may hold (`where`: the folder it came from)."""
    if not BATCH_ID.match(batch_id):
        raise SpeedrunError(f"{where}batch id {batch_id!r} may hold only letters, digits and _ . : / = + -")
    return batch_id


@dataclass(frozen=True)
class Arrival:
    batch_id: str
    path: str
    files: str  # a hash of the folder's files' names, sizes and modification times


def arrivals(folder: str) -> list[Arrival]:
    """The batch folders under `folder`, in name order; one line naming what is not in one."""
    local = local_path(folder)
    if local is None or not Path(local).is_dir():
        raise SpeedrunError(f"{folder}: --arrived needs a local or /Volumes folder of batch folders")
    loose = sorted(p.name for p in Path(local).iterdir() if p.is_file() and not p.name.startswith(("_", ".")))
    if loose:
        raise SpeedrunError(
            f"{folder} holds {', '.join(loose[:3])} outside a batch folder: put each batch's files in a folder of "
            "their own under it, named after the batch"
        )
    found = []
    for batch in sorted(p for p in Path(local).iterdir() if p.is_dir() and not p.name.startswith(("_", "."))):
        checked_batch_id(batch.name, f"batch folder {batch}: ")
        stamps = [[Path(f).relative_to(batch).as_posix(), *_stat(f)] for f in data_files(str(batch)) or []]
        found.append(Arrival(batch.name, str(batch), hashlib.sha256(json.dumps(stamps).encode()).hexdigest()[:32]))
    return found


def _stat(file: str) -> tuple[int, int]:
    stat = Path(file).stat()
    return stat.st_size, stat.st_mtime_ns


def _latest(spark: SparkSession, tables: Tables) -> dict[str, dict[str, dict]]:
    """Each event's latest row, by batch: {"scored": {batch: row}, "judged": {batch: row}} (one read)."""
    latest: dict[str, dict[str, dict]] = {"scored": {}, "judged": {}}
    if tables.exists(spark, "scored_batches"):
        for row in sorted(tables.read(spark, "scored_batches").collect(), key=lambda r: r["at"]):
            latest[row["event"]][row["batch_id"]] = row.asDict()
    return latest


def pending(spark: SparkSession, tables: Tables, found: list[Arrival]) -> list[Arrival]:
    """The arrivals whose files differ from those their latest `scored` row records."""
    scored = _latest(spark, tables)["scored"]
    return [a for a in found if scored.get(a.batch_id, {}).get("files") != a.files]


def unjudged(spark: SparkSession, tables: Tables) -> list[str]:
    """The batches scored since their latest verdict (or never judged), in name order."""
    latest = _latest(spark, tables)
    scored, judged = latest["scored"], latest["judged"]
    return sorted(b for b, row in scored.items() if b not in judged or judged[b]["at"] < row["at"])


def log_events(spark: SparkSession, tables: Tables, event: str, facts: dict[str, dict]) -> None:
    """One `event` row for each batch of `facts` (batch id -> its columns), in one commit."""
    at = datetime.now(timezone.utc).replace(tzinfo=None)
    blank = {f.name: None for f in LOG_SCHEMA}
    rows = [blank | given | {"batch_id": batch_id, "event": event, "at": at} for batch_id, given in facts.items()]
    if rows:
        tables.write(spark.createDataFrame(rows, LOG_SCHEMA), "scored_batches", mode="append")


def judge(spark: SparkSession, tables: Tables, batch_ids: list[str], fail: float | None) -> SpeedrunError | None:
    """The drift verdict on each of `batch_ids` (from the drift rows scoring kept), logged as `judged`: one
    error naming every batch that drifted above `fail`, or None. A verdict is given once: judged, a drifted
    batch does not fail the next run again."""
    failures, verdicts = [], {}
    for batch_id in batch_ids:
        rows = kept_drift(spark, tables, batch_id)
        failed = shift_error(rows, fail, tables.location("drift"))
        verdicts[batch_id] = {"verdict": "drifted" if failed else ("calm" if rows else "not measured")}
        if failed is not None:
            failures.append(f"batch {batch_id}: {failed}")
    log_events(spark, tables, "judged", verdicts)
    return SpeedrunError("; ".join(failures)) if failures else None
