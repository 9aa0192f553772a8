"""The training rows' profile (what scoring's drift is measured against), made once per silver commit: a rerun
of the loop on the same silver (another model key) reads it from the run folder instead of profiling the same
rows again (two Spark jobs over the training rows).

A profile is kept under `runs/<name>/profiles/`, named by the write that made silver's commit (its token, unique
to that write even when a table dropped and made again reuses the version number), the number of bins and
speedrun's code: any of those changed, the rows are profiled again."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from pyspark.sql import SparkSession

from speedrun.code import code_hash
from speedrun.config import Config
from speedrun.edges.files import write_whole
from speedrun.edges.tables import Tables
from speedrun.transforms.drift import Profile


def profile_file(spark: SparkSession, tables: Tables, silver_version: int, bins: int) -> Path | None:
    """Where the profile of the training rows of `silver_version` is kept; None when its commit has no token."""
    cfg: Config = tables.cfg
    token = tables.log(spark, "silver").token(silver_version)
    if token is None:
        return None
    name = f"{token}-{bins}-{code_hash()[:16]}.json"
    return Path(cfg.storage.resolve(f"runs/{cfg.name}/profiles")) / name


def kept_profile(
    spark: SparkSession, tables: Tables, silver_version: int, bins: int, profile: Callable[[], Profile]
) -> Profile:
    """The training rows' profile of `silver_version`: as kept by an earlier run on it, else `profile()`, then
    kept."""
    path = profile_file(spark, tables, silver_version, bins)
    if path is not None and path.is_file():
        return json.loads(path.read_text())
    made = profile()
    if path is not None:
        write_whole(path, json.dumps(made))  # the features in their order, as profiled
    return made
