"""The record of a training run: its id, lineage, config, versions and times, in `<name>_training_runs` and MLflow."""

from __future__ import annotations

import os
import subprocess
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from speedrun.config import Config
from speedrun.features import classifier_params


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


RUNS_SCHEMA = (
    "run_id string, name string, model_type string, model_params string, model_path string, config string, "
    "config_hash string, split_seed long, bronze_version long, silver_version long, train_version long, "
    "validation_version long, test_version long, train_rows long, validation_rows long, test_rows long, "
    "validation_metrics string, started_at timestamp, finished_at timestamp, speedrun_version string, "
    "spark_version string, git_commit string, mlflow_run_id string, target string, registered_model string, "
    "model_version string"
)


def run_params(cfg: Config) -> dict[str, object]:
    return {
        "model_type": cfg.model.type,
        **{f"model.{k}": v for k, v in classifier_params(cfg).items()},
        "split.train": cfg.split.train,
        "split.validation": cfg.split.validation,
        "split.test": cfg.split.test,
        "split.seed": cfg.split.seed,
        "features.impute_strategy": cfg.features.impute_strategy,
        "features.scale": cfg.features.scale,
        "train.partitions": cfg.train.partitions,
        "config_hash": cfg.digest(),
    }


def run_tags(record: TrainingRun) -> dict[str, object]:
    """The run's lineage, as MLflow tags."""
    keys = (
        "run_id",
        "name",
        "config_hash",
        "bronze_version",
        "silver_version",
        "train_version",
        "validation_version",
        "test_version",
        "train_rows",
        "validation_rows",
        "test_rows",
        "speedrun_version",
        "spark_version",
        "git_commit",
        "target",
    )
    return {f"speedrun.{k}": getattr(record, k) for k in keys} | {"mlflow.source.git.commit": record.git_commit}
