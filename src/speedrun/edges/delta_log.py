"""A Delta table's commits as speedrun reads them: each commit's version, rows written and lineage (the versions of
the inputs it was made from, in its `userMetadata`), and the token of the write that made it. A local table's
commits are read from its `_delta_log` files, with no Spark job; a catalog table's with DESCRIBE HISTORY."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

WRITE_TOKEN = "_write"  # the userMetadata key naming the write that made a commit
INPUTS = "inputs"  # the userMetadata key of a silver commit's inputs fingerprint (`up_to_date`)
COUNTS = "split_counts"  # and of its rows per split and class index, as prepare counted them
COMMIT_FILE = re.compile(r"^(\d{20})\.json$")
SEARCHED_COMMITS = 50  # how far back a write looks for its own commit (concurrent commits in between)


@dataclass(frozen=True)
class Commit:
    version: int
    rows: int
    lineage: dict[str, int]  # the versions of the inputs it was made from, by role
    inputs: str | None = None  # a silver commit of `run`: the fingerprint of what it was made from
    counts: dict[str, dict[int, int]] | None = None  # and its rows per split and class index


def commit_from(version: int, info: dict) -> tuple[Commit, str | None]:
    """A Commit and its write token, from a commit's `commitInfo` (as in the log file, or a history row)."""
    metadata = json.loads(info.get("userMetadata") or "{}")
    token = metadata.pop(WRITE_TOKEN, None)
    rows = int((info.get("operationMetrics") or {}).get("numOutputRows", 0))
    inputs = metadata.pop(INPUTS, None)
    counted = metadata.pop(COUNTS, None)
    counts = {split: {int(k): n for k, n in c.items()} for split, c in counted.items()} if counted else None
    return Commit(version=version, rows=rows, lineage=metadata, inputs=inputs, counts=counts), token


class DeltaLog:
    """The commits of one table: read from its `_delta_log` files when local, else with DESCRIBE HISTORY."""

    def __init__(self, spark: SparkSession, name: str, folder: Path | None) -> None:
        self.spark, self.name, self.folder = spark, name, folder

    def versions(self) -> list[int]:
        """Versions whose commit file is still in the log, newest first (local tables only)."""
        log = self.folder / "_delta_log"
        found = [int(m.group(1)) for p in log.iterdir() if (m := COMMIT_FILE.match(p.name))] if log.is_dir() else []
        return sorted(found, reverse=True)

    def entries(self, version: int | None = None, limit: int = SEARCHED_COMMITS) -> list[tuple[Commit, str | None]]:
        """`(commit, token)` of the newest `limit` commits, or of `version` alone."""
        if self.folder is not None:
            chosen = [version] if version is not None else self.versions()[:limit]
            return [commit_from(v, self._commit_info(v)) for v in chosen if self._commit_file(v).is_file()]
        history = self.spark.sql(f"DESCRIBE HISTORY {self.name}" + ("" if version is not None else f" LIMIT {limit}"))
        if version is not None:
            history = history.where(F.col("version") == version)
        rows = history.select("version", "userMetadata", "operationMetrics").collect()
        return [commit_from(r["version"], r.asDict()) for r in rows]

    def token(self, version: int) -> str | None:
        """The token of the write that made `version` (None: not speedrun's, or not in the log)."""
        found = self.entries(version)
        return found[0][1] if found else None

    def _commit_file(self, version: int) -> Path:
        return self.folder / "_delta_log" / f"{version:020d}.json"

    def _commit_info(self, version: int) -> dict:
        with self._commit_file(version).open() as lines:
            for line in lines:
                action = json.loads(line)
                if "commitInfo" in action:
                    return action["commitInfo"]
        return {}
