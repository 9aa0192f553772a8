"""The run records: a training run (its id, lineage, config, versions and times) in `<name>_training_runs` and
MLflow, and its evaluation in `<name>_metrics`; each table's schema, declared once, and reading them back."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, get_args, get_type_hints

from pyspark.sql import Row, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import (
    ArrayType,
    DoubleType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from speedrun.config import METRICS, Config
from speedrun.edges.tables import Tables
from speedrun.errors import SpeedrunError
from speedrun.transforms.decision import Decision


def new_run_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


def git_commit() -> str | None:
    """`SPEEDRUN_GIT_COMMIT` (the bundle passes `${bundle.git.commit}`), else the checkout's HEAD, if any."""
    if os.environ.get("SPEEDRUN_GIT_COMMIT"):
        return os.environ["SPEEDRUN_GIT_COMMIT"]
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


@dataclass(frozen=True)
class TrainingRun:
    run_id: str
    name: str
    model_type: str
    model_params: str
    model_path: str
    config: str
    config_hash: str
    split_seed: int
    bronze_version: int | None
    silver_version: int | None
    train_version: int
    validation_version: int
    test_version: int
    train_rows: int
    validation_rows: int
    test_rows: int
    validation_metrics: str
    started_at: datetime
    finished_at: datetime
    speedrun_version: str
    spark_version: str
    git_commit: str | None
    mlflow_run_id: str | None
    target: str | None = None  # the bundle target that ran it (SPEEDRUN_TARGET), if any
    registered_model: str | None = None
    model_version: str | None = None
    threshold: float | None = None  # the positive class's decision threshold (None: the classifier's own)
    class_weights: str | None = None  # JSON: each class's weight on the training rows (None: unweighted)
    code_hash: str | None = None  # speedrun's modules by content (`code.code_hash`), for `run`'s up-to-date check


@dataclass(frozen=True)
class Trained:
    """What train returns, for evaluate to use without reading it back: the run's record (with its registered
    version once the record is kept: at once alone, in the background inside `run`) and its fitted model."""

    record: TrainingRun
    model: Any  # a PipelineModel
    new_run: bool  # its run id was made up here: no record holds it yet


def recorded_threshold(run: Mapping[str, Any] | Row) -> float | None:
    """A run's decision threshold (a run recorded before thresholds: none)."""
    return (run.asDict() if isinstance(run, Row) else dict(run)).get("threshold")


def with_decision(record: TrainingRun, decision: Decision, classes: list[str]) -> TrainingRun:
    """The run's record with its threshold and its class weights (by class value)."""
    weights = decision.weights and json.dumps({classes[k]: w for k, w in decision.weights.items()})
    return replace(record, threshold=decision.threshold, class_weights=weights or None)


def weighing(record: TrainingRun) -> str:
    """`classes weighted no 0.53, yes 8.77`, or nothing for an unweighted run."""
    if not record.class_weights:
        return ""
    return "classes weighted " + ", ".join(f"{c} {w:.3g}" for c, w in json.loads(record.class_weights).items())


SPARK_TYPES = {str: StringType(), int: LongType(), float: DoubleType(), datetime: TimestampType()}


def schema_of(record: type) -> StructType:
    """The Spark schema of a record dataclass, field by field: `X | None` is a nullable X."""
    fields = []
    for name, hint in get_type_hints(record).items():
        kinds = [kind for kind in get_args(hint) or (hint,) if kind is not type(None)]
        fields.append(StructField(name, SPARK_TYPES[kinds[0]], nullable=len(kinds) < len(get_args(hint) or (0,))))
    return StructType(fields)


RUNS_SCHEMA = schema_of(TrainingRun)  # `<name>_training_runs`
METRICS_SCHEMA = StructType(  # `<name>_metrics`: a run's test metrics, one row per evaluated run
    [
        StructField("run_id", StringType()),
        StructField("model_type", StringType()),
        StructField("evaluated_at", TimestampType()),
        StructField("test_rows", LongType()),
        *[StructField(name, DoubleType()) for name in METRICS],
        StructField("confusion_matrix", ArrayType(ArrayType(LongType()))),
        StructField("metrics", StringType()),
    ]
)


def metrics_record(run: Mapping[str, Any], metrics: dict[str, float], matrix: list[list[int]], at: datetime) -> tuple:
    """The run's row in `<name>_metrics`, evaluated `at`."""
    return (
        run["run_id"],
        run["model_type"],
        at,
        run["test_rows"],
        *[metrics.get(name) for name in METRICS],
        matrix,
        json.dumps(metrics, sort_keys=True),
    )


def find_run(spark: SparkSession, cfg: Config, run_id: str | None) -> Row:
    """The record of `run_id`, or of the latest training run."""
    runs = Tables(cfg).read(spark, "training_runs")
    if run_id:
        found = runs.where(F.col("run_id") == run_id).collect()
        if not found:
            raise SpeedrunError(f"no training run {run_id!r} in {Tables(cfg).location('training_runs')}")
        return found[0]
    latest = runs.orderBy(F.col("finished_at").desc()).first()
    if latest is None:
        raise SpeedrunError("no training run recorded yet: run `speedrun train` first")
    return latest


def recorded_evaluation(spark: SparkSession, cfg: Config, run_id: str) -> Row:
    """The `<name>_metrics` row of an evaluated run."""
    tables = Tables(cfg)
    found = (
        tables.read(spark, "metrics").where(F.col("run_id") == run_id).first()
        if tables.exists(spark, "metrics")
        else None
    )
    if found is None:
        raise SpeedrunError(f"run {run_id} was never evaluated: run `speedrun evaluate --run-id {run_id}` first")
    return found
