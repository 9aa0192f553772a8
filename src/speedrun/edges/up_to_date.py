"""Whether `run` can start from the silver table its last run made: the raw files, the config of the data steps
and speedrun's code are as they were then. Like `COPY INTO` skipping files it already loaded, a rerun that only
changes the model trains on the very rows of that silver version, with the same lineage; `--fresh` reads the raw
files again whatever they are.

Silver's commit holds its rows per split and class too: with silver kept, the split step checks those, not counting
again. With silver kept, a run that the config (all of it) and the code would only repeat is recognised in the run
records (`earlier_run`): its model would be the same bit for bit, so split, train and evaluate are up to date too.

What `run` wrote is recognised by a fingerprint in silver's commit (`inputs` in its userMetadata): the source
files' paths, sizes and modification times, every config section but those of the model and what follows it,
and a hash of speedrun's own modules. Remote sources (not listed here without Spark) always run in full.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from pyspark.sql import SparkSession

from speedrun.code import code_hash
from speedrun.config import Config
from speedrun.edges.evaluated import evaluated_run
from speedrun.edges.files import data_files
from speedrun.edges.runs import TrainingRun
from speedrun.edges.tables import Tables
from speedrun.transforms.splits import SPLITS

# Config sections no data step reads: changing them keeps silver as it is. Any other section counts.
MODEL_SIDE = ("features", "model", "search", "train", "tracking", "registry", "validation", "scoring", "server")
SIDES = (("source", "bronze", "silver"), ("test_source", "bronze_test", "silver_test"))


def file_stamps(cfg: Config) -> list[list] | None:
    """`[path, size, mtime_ns]` of every raw file the sources name; None when a source is remote or has no files
    yet (ingest generates or reports them)."""
    stamps = []
    for key, _, _ in SIDES:
        source = getattr(cfg, key)
        if source is None:
            continue
        files = data_files(cfg.storage.resolve(source.path))
        if not files:
            return None
        stamps += [[f, (s := Path(f).stat()).st_size, s.st_mtime_ns] for f in files]
    return stamps


def inputs_fingerprint(cfg: Config) -> str | None:
    """What silver is made from, as one hash; None when it cannot be known without reading the files."""
    stamps = file_stamps(cfg)
    if stamps is None:
        return None
    data_config = {k: v for k, v in cfg.as_dict().items() if k not in MODEL_SIDE}
    facts = {"files": stamps, "config": data_config, "code": code_hash(), "delta": version("delta-spark")}
    return hashlib.sha256(json.dumps(facts, sort_keys=True, default=str).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class KeptSilver:
    """The versions a run reuses: silver (and silver_test) as its last run left them, and the bronze behind."""

    versions: dict[str, int]  # role -> version, of bronze, silver and, with a test source, their test tables
    counts: dict[str, Counter] | None = None  # rows per split and class index, as prepare counted them

    def describe(self, *roles: str) -> str:
        return ", ".join(f"{role} v{self.versions[role]}" for role in roles if role in self.versions)


def kept_silver(spark: SparkSession, cfg: Config, fingerprint: str | None) -> KeptSilver | None:
    """The silver tables to start from when the latest of each was written by a run with this `fingerprint`
    and from bronze's latest version; None when anything differs (or is missing)."""
    if fingerprint is None:
        return None
    tables, versions, counts = Tables(cfg), {}, {}
    for key, bronze, silver in SIDES:
        if getattr(cfg, key) is None:
            continue
        if not (tables.exists(spark, silver) and tables.exists(spark, bronze)):
            return None
        commit = tables.commit(spark, silver)
        if commit.inputs != fingerprint or commit.lineage.get(bronze) != tables.version(spark, bronze):
            return None
        versions |= {bronze: commit.lineage[bronze], silver: commit.version}
        counts = None if commit.counts is None or counts is None else {**counts, **commit.counts}
    by_split = {name: Counter(counts.get(name, {})) for name in SPLITS} if counts is not None else None
    return KeptSilver(versions, by_split)


@dataclass(frozen=True)
class EarlierRun:
    """A run `run` need not do again: trained and evaluated on the kept silver, with this config and code."""

    record: TrainingRun
    metrics_path: Path

    def describe(self) -> str:
        return (
            f"run {self.record.run_id} was trained on silver v{self.record.silver_version} with this config and "
            "this code"
        )

    def rows(self) -> str:
        return ", ".join(f"{name} {getattr(self.record, f'{name}_rows'):,}" for name in ("train", "validation", "test"))


def earlier_run(spark: SparkSession, cfg: Config, kept: KeptSilver) -> EarlierRun | None:
    """The latest run trained on the kept silver (and test) versions with this config and this code, and
    evaluated (its metrics recorded, its metrics file in place): its model is this run's model, bit for bit.
    Looked up in the runs kept as evaluated (`edges.evaluated`), with no Spark job."""
    test = kept.versions.get("silver_test", kept.versions["silver"])
    wanted = {
        "silver_version": kept.versions["silver"],
        "test_version": test,
        "config_hash": cfg.digest(),
        "code_hash": code_hash()[:16],
    }
    record = evaluated_run(spark, Tables(cfg), wanted)
    if record is None:
        return None
    metrics = Path(cfg.storage.resolve(f"runs/{cfg.name}/{record.run_id}")) / "metrics.json"
    return EarlierRun(record, metrics) if metrics.is_file() else None


def bronze_behind(spark: SparkSession, tables: Tables, silver_version: int) -> int | None:
    """The bronze version silver was cleaned from, through silver versions that only re-split it."""
    lineage = tables.commit(spark, "silver", silver_version).lineage
    for _ in range(100):
        if "silver" not in lineage:
            break
        lineage = tables.commit(spark, "silver", lineage["silver"]).lineage
    return lineage.get("bronze")
