"""The runs evaluated on each silver commit, by config and code: what `run`'s plan looks up to know whether a rerun
would only repeat one (`up_to_date.earlier_run`), with no Spark job.

Once a run's metrics record is written, its training record is kept under `runs/<name>/evaluated/`, named by a
hash of the writes that made its silver and test tables' versions (each write's token: unique, even when a table
dropped and made again reuses a version number), its config's hash and speedrun's code. A silver table kept up to
date was made by this very code (`up_to_date.inputs_fingerprint`), so every run evaluated on it by this code is
there: a missing file means no such run."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession

from speedrun.edges.files import write_whole
from speedrun.edges.runs import TrainingRun
from speedrun.edges.tables import Tables

TIMES = ("started_at", "finished_at")


def entry_path(spark: SparkSession, tables: Tables, run: Mapping[str, Any]) -> Path | None:
    """Where a run with `run`'s silver and test versions, config hash and code hash is kept (None: a table's
    commit has no write token, or the run no code hash)."""
    if run.get("silver_version") is None or run.get("test_version") is None:
        return None
    test = "silver_test" if tables.cfg.test_source is not None else "silver"
    tokens = [
        tables.log(spark, "silver").token(run["silver_version"]),
        tables.log(spark, test).token(run["test_version"]),
    ]
    if None in tokens or not run.get("code_hash"):
        return None
    key = hashlib.sha256(json.dumps([*tokens, run["config_hash"], run["code_hash"]]).encode()).hexdigest()[:32]
    return Path(tables.cfg.storage.resolve(f"runs/{tables.cfg.name}/evaluated")) / f"{key}.json"


def record_evaluated(spark: SparkSession, tables: Tables, run: Mapping[str, Any]) -> None:
    """Keep `run` (a training record, as a mapping) as evaluated."""
    path = entry_path(spark, tables, run)
    if path is None:
        return
    record = {f.name: run.get(f.name) for f in fields(TrainingRun)}
    write_whole(path, json.dumps(record, default=lambda t: t.isoformat()))


def evaluated_run(spark: SparkSession, tables: Tables, wanted: Mapping[str, Any]) -> TrainingRun | None:
    """The latest run evaluated with `wanted`'s silver and test versions, config hash and code hash, if any."""
    path = entry_path(spark, tables, wanted)
    if path is None or not path.is_file():
        return None
    record = json.loads(path.read_text())
    return TrainingRun(**{**record, **{t: datetime.fromisoformat(record[t]) for t in TIMES}})
