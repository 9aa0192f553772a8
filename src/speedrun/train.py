"""train: the train table -> a fitted PipelineModel (saved) and a run record in `<name>_training_runs`.

A run records its lineage: the Delta version of every table its model was made from (the splits it read,
and through their commits the silver and bronze versions behind them), the resolved config and its hash,
the seed, row counts, versions of speedrun and Spark, the git commit, start and end times.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone

import yaml
from pyspark.ml import PipelineModel
from pyspark.sql import DataFrame, SparkSession

import speedrun
from speedrun.config import Config
from speedrun.contract import contract_of
from speedrun.features import build_pipeline, classifier_params
from speedrun.metrics import classification_metrics
from speedrun.prepare import ROW_KEY
from speedrun.progress import step
from speedrun.runs import RUNS_SCHEMA, TrainingRun, git_commit, new_run_id, run_params, run_tags
from speedrun.split import SPLITS
from speedrun.tables import Commit, Tables
from speedrun.tracking import log_training, mlflow_run, registered_model_name


def fixed_layout(df: DataFrame, partitions: int) -> DataFrame:
    """The same rows in the same partitions in the same order, whatever the input's layout or the cores:
    fits and metrics sum per partition, so this is what makes a refit reproduce its model bit for bit."""
    return df.repartition(partitions, ROW_KEY).sortWithinPartitions(ROW_KEY, *[c for c in df.columns if c != ROW_KEY])


def fit(cfg: Config, training: DataFrame) -> PipelineModel:
    """Fit the configured pipeline on the training rows, laid out the reproducible way."""
    rows = fixed_layout(training, cfg.train.partitions).persist()
    try:
        return build_pipeline(cfg, contract_of(training)).fit(rows)
    finally:
        rows.unpersist()


@contextmanager
def predictions_of(cfg: Config, model: PipelineModel, rows: DataFrame) -> Iterator[DataFrame]:
    """`model`'s predictions for `rows` in the fixed layout (so metrics sum in a fixed order), cached while used."""
    predictions = model.transform(fixed_layout(rows, cfg.train.partitions)).persist()
    try:
        yield predictions
    finally:
        predictions.unpersist()


def score(cfg: Config, model: PipelineModel, rows: DataFrame) -> tuple[dict[str, float], list[list[int]]]:
    """Metrics and confusion matrix of `model` on `rows` (empty when there are no rows)."""
    with predictions_of(cfg, model, rows) as predictions:
        if predictions.isEmpty():
            return {}, []
        return classification_metrics(predictions, len(contract_of(rows).classes))


def model_path(cfg: Config, run_id: str) -> str:
    return cfg.storage.resolve(f"models/{cfg.name}/{run_id}")


@dataclass(frozen=True)
class Trained:
    """A recorded run and its fitted model, handed by `run` to evaluate without reading either back."""

    record: TrainingRun
    model: PipelineModel


def train(spark: SparkSession, cfg: Config, run_id: str | None = None) -> TrainingRun:
    """Fit on the latest version of the train table and record the run."""
    return fit_and_record(spark, cfg, run_id).record


def fit_and_record(
    spark: SparkSession, cfg: Config, run_id: str | None = None, split_commits: dict[str, Commit] | None = None
) -> Trained:
    """`train`, returning the fitted model as well; on the split tables' versions of `split_commits` (those of
    the split just made, in `run`: no reading them back from the tables' logs), by default the latest."""
    tables = Tables(cfg)
    run_id = run_id or new_run_id()
    started = datetime.now(timezone.utc)
    with step("train") as progress:
        commits = split_commits or {name: tables.commit(spark, name) for name in SPLITS}
        versions = {name: commit.version for name, commit in commits.items()}
        silver_version = commits["train"].lineage.get("silver")
        bronze_version = (
            None if silver_version is None else tables.commit(spark, "silver", silver_version).lineage.get("bronze")
        )
        with mlflow_run(cfg, run_name=run_id) as tracked:
            training = tables.read(spark, "train", versions["train"])
            model = fit(cfg, training)
            path = model_path(cfg, run_id)
            model.write().overwrite().save(path)
            validation_metrics, _ = score(cfg, model, tables.read(spark, "validation", versions["validation"]))
            record = TrainingRun(
                run_id=run_id,
                name=cfg.name,
                model_type=cfg.model.type,
                model_params=json.dumps(classifier_params(cfg), sort_keys=True),
                model_path=path,
                config=json.dumps(cfg.as_dict(), sort_keys=True),
                config_hash=cfg.digest(),
                split_seed=cfg.split.seed,
                bronze_version=bronze_version,
                silver_version=silver_version,
                train_version=versions["train"],
                validation_version=versions["validation"],
                test_version=versions["test"],
                train_rows=commits["train"].rows,
                validation_rows=commits["validation"].rows,
                test_rows=commits["test"].rows,
                validation_metrics=json.dumps(validation_metrics, sort_keys=True),
                started_at=started,
                finished_at=datetime.now(timezone.utc),
                speedrun_version=speedrun.__version__,
                spark_version=spark.version,
                git_commit=git_commit(),
                mlflow_run_id=tracked.info.run_id if tracked else None,
                target=os.environ.get("SPEEDRUN_TARGET"),
            )
            if tracked:
                version = log_training(
                    contract_of(training),
                    model,
                    params=run_params(cfg),
                    tags=run_tags(record),
                    metrics=validation_metrics,
                    config_yaml=yaml.safe_dump(cfg.as_dict(), sort_keys=False),
                    registered_name=registered_model_name(cfg),
                )
                record = replace(record, registered_model=registered_model_name(cfg), model_version=version)
        tables.upsert(
            spark.createDataFrame([tuple(asdict(record).values())], RUNS_SCHEMA), "training_runs", "run_id", run_id
        )
        auc = validation_metrics.get("areaUnderROC")
        progress.done(
            f"{cfg.model.type} on {record.train_rows:,} rows -> {path}"
            + (f" (validation AUC {auc:.4f})" if auc is not None else "")
        )
    return Trained(record, model)
