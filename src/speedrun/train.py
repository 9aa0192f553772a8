"""train: the train table -> a fitted PipelineModel (saved) and a run record in `<name>_training_runs`."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

from pyspark.ml import PipelineModel
from pyspark.sql import DataFrame, SparkSession

import speedrun
from speedrun.config import Config
from speedrun.features import build_pipeline, classifier_params
from speedrun.metrics import classification_metrics
from speedrun.prepare import ROW_KEY
from speedrun.progress import step
from speedrun.split import SPLITS
from speedrun.tables import Tables


def new_run_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


def fixed_layout(df: DataFrame, partitions: int) -> DataFrame:
    """The same rows in the same partitions in the same order, whatever the input's layout: iterative
    fits sum per partition, so this is what makes a refit reproduce its model bit for bit."""
    return df.repartition(partitions, ROW_KEY).sortWithinPartitions(ROW_KEY)


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


def model_path(cfg: Config, run_id: str) -> str:
    return cfg.storage.resolve(f"models/{cfg.name}/{run_id}")


def train(spark: SparkSession, cfg: Config, run_id: str | None = None) -> TrainingRun:
    tables = Tables(cfg)
    run_id = run_id or new_run_id()
    started = datetime.now(timezone.utc)
    with step("train") as progress:
        versions, rows = {}, {}
        for name in SPLITS:
            versions[name], rows[name] = tables.last_write(spark, name)
        training = fixed_layout(tables.read(spark, "train", versions["train"]), cfg.train.partitions).persist()
        try:
            model = build_pipeline(cfg).fit(training)
        finally:
            training.unpersist()
        path = model_path(cfg, run_id)
        model.write().overwrite().save(path)
        validation_metrics = validate(model, tables.read(spark, "validation", versions["validation"]), cfg)
        record = TrainingRun(
            run_id=run_id,
            name=cfg.name,
            model_type=cfg.model.type,
            model_params=json.dumps(classifier_params(cfg), sort_keys=True),
            model_path=path,
            config=json.dumps(cfg.as_dict(), sort_keys=True),
            config_hash=cfg.digest(),
            split_seed=cfg.split.seed,
            train_version=versions["train"],
            validation_version=versions["validation"],
            test_version=versions["test"],
            train_rows=rows["train"],
            validation_rows=rows["validation"],
            test_rows=rows["test"],
            validation_metrics=json.dumps(validation_metrics, sort_keys=True),
            started_at=started,
            finished_at=datetime.now(timezone.utc),
            speedrun_version=speedrun.__version__,
            spark_version=spark.version,
        )
        tables.upsert(spark.createDataFrame([asdict(record)]), "training_runs", key="run_id")
        auc = validation_metrics.get("areaUnderROC")
        progress.done(
            f"{cfg.model.type} on {record.train_rows:,} rows -> {path}"
            + (f" (validation AUC {auc:.4f})" if auc is not None else "")
        )
    return record


def validate(model: PipelineModel, validation: DataFrame, cfg: Config) -> dict[str, float]:
    """Metrics on the validation rows, recorded with the run (empty when there are none)."""
    predictions = model.transform(validation).persist()
    try:
        if predictions.isEmpty():
            return {}
        metrics, _ = classification_metrics(predictions, len(cfg.columns.label.classes))
        return metrics
    finally:
        predictions.unpersist()
