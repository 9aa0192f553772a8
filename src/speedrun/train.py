"""train: silver's train rows -> a fitted PipelineModel (saved once: in MLflow when tracking, else in the work
folder) and a run record in `<name>_training_runs`.

A run records its lineage: the Delta version of every table its model was made from (silver, whose `_split`
column holds the splits, a given test file's silver_test, and through silver's commit the bronze version behind
it), the resolved config and its hash, the seed, row counts, versions of speedrun and Spark, the git commit,
start and end times.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from functools import partial

import yaml
from pyspark.ml import PipelineModel
from pyspark.sql import DataFrame, SparkSession

import speedrun
from speedrun.background import BackgroundWrites
from speedrun.config import Config
from speedrun.contract import Contract, contract_of
from speedrun.features import classifier_params
from speedrun.fit import fit, metrics_on
from speedrun.mlflow_logging import load_logged_model, log_training, run_params, run_tags
from speedrun.progress import step
from speedrun.runs import RUNS_SCHEMA, TrainingRun, git_commit, new_run_id
from speedrun.split import SPLITS
from speedrun.split_rows import SplitLineage, SplitRows, read_split_rows
from speedrun.tables import Tables
from speedrun.tracking import mlflow_run, registered_model_name


def model_path(cfg: Config, run_id: str) -> str:
    return cfg.storage.resolve(f"models/{cfg.name}/{run_id}")


def load_model(path: str) -> PipelineModel:
    """A run's fitted pipeline: from MLflow (`models:/...`, `runs:/...`) or from a folder."""
    return load_logged_model(path) if path.startswith(("models:/", "runs:/")) else PipelineModel.load(path)


@dataclass(frozen=True)
class Trained:
    """A recorded run and its fitted model, handed by `run` to evaluate without reading either back."""

    record: TrainingRun
    model: PipelineModel
    test_rows: DataFrame
    new_run: bool = False  # a run id made up here: no record holds it yet


def train(spark: SparkSession, cfg: Config, run_id: str | None = None) -> TrainingRun:
    """Fit on the train rows of the latest silver and record the run (tuning, when the config has a search)."""
    from speedrun.tuning import tuner

    return fit_and_record(spark, cfg, run_id, choose_model=tuner() if cfg.search else None).record


def fit_and_record(
    spark: SparkSession,
    cfg: Config,
    run_id: str | None = None,
    inputs: SplitRows | None = None,
    writes: BackgroundWrites | None = None,
    choose_model: ChooseModel | None = None,
) -> Trained:
    """`train`, returning the fitted model as well; on the split rows `inputs` (those just prepared, in `run`:
    nothing read back from the tables), by default the latest silver's. With `writes` (in `run`), the model is
    logged and registered, and the run recorded, in the background while the caller evaluates. `choose_model`
    (tuning) picks the model and its config in place of fitting the configured one."""
    new_run = run_id is None
    run_id = run_id or new_run_id()
    started = datetime.now(timezone.utc)
    with step("train") as progress:
        inputs = inputs or read_split_rows(spark, cfg)
        with mlflow_run(cfg, run_name=run_id) as tracked:
            cfg, model, validation = (choose_model or fit_configured)(cfg, inputs, run_id, tracked is not None)
            times = (started, datetime.now(timezone.utc))
            lineage, mlflow_run_id = inputs.lineage(), tracked.info.run_id if tracked else None  # waits, in `run`
            record = training_record(
                cfg, run_id, times, lineage, inputs.split.rows, validation, mlflow_run_id, made_with(spark)
            )
        keep = partial(keep_model_and_record, spark, cfg, record, model, contract_of(inputs.rows["train"]), new_run)
        if writes is None:
            record = keep()
        else:
            writes.later("training_runs", keep, lane="tracking")
        auc = validation.get("areaUnderROC")
        progress.done(
            f"{cfg.model.type} on {record.train_rows:,} rows -> {record.model_path}"
            + (f" (validation AUC {auc:.4f})" if auc is not None else "")
        )
    return Trained(record, model, inputs.rows["test"], new_run)


ChooseModel = Callable[[Config, SplitRows, str, bool], tuple[Config, PipelineModel, dict[str, float]]]


def fit_configured(
    cfg: Config, inputs: SplitRows, run_id: str, tracked: bool
) -> tuple[Config, PipelineModel, dict[str, float]]:
    """The configured model, fitted on the train rows, with its validation metrics (none without validation rows)."""
    model = fit(cfg, inputs.rows["train"])
    validation = metrics_on(cfg, model, inputs.rows["validation"])[0] if inputs.split.rows["validation"] else {}
    return cfg, model, validation


def made_with(spark: SparkSession) -> dict[str, str | None]:
    """What a run was made with and where: speedrun's and Spark's versions, the git commit, the bundle target."""
    return {
        "speedrun_version": speedrun.__version__,
        "spark_version": spark.version,
        "git_commit": git_commit(),
        "target": os.environ.get("SPEEDRUN_TARGET"),
    }


def training_record(
    cfg: Config,
    run_id: str,
    times: tuple[datetime, datetime],
    lineage: SplitLineage,
    rows: dict[str, int],
    validation_metrics: dict[str, float],
    mlflow_run_id: str | None,
    provenance: dict[str, str | None],
) -> TrainingRun:
    """The run's record (pure): what was fitted, on how many rows of which table versions, started and finished
    at `times`, made with `provenance` (`made_with`)."""
    return TrainingRun(
        run_id=run_id,
        name=cfg.name,
        model_type=cfg.model.type,
        model_params=json.dumps(classifier_params(cfg), sort_keys=True),
        # logged once, to MLflow, when tracking; else saved in the work folder
        model_path=f"runs:/{mlflow_run_id}/model" if mlflow_run_id else model_path(cfg, run_id),
        config=json.dumps(cfg.as_dict(), sort_keys=True),
        config_hash=cfg.digest(),
        split_seed=cfg.split.seed,
        bronze_version=lineage.bronze_version,
        silver_version=lineage.silver_version,
        **{f"{split}_version": lineage.versions[split] for split in SPLITS},
        **{f"{split}_rows": rows[split] for split in SPLITS},
        validation_metrics=json.dumps(validation_metrics, sort_keys=True),
        started_at=times[0],
        finished_at=times[1],
        mlflow_run_id=mlflow_run_id,
        **provenance,
    )


def keep_model_and_record(
    spark: SparkSession,
    cfg: Config,
    record: TrainingRun,
    model: PipelineModel,
    contract: Contract,
    new_run: bool = False,
) -> TrainingRun:
    """Log the model to the run's MLflow run and register it (or, without tracking, save it in the work folder),
    then put the run's record in `<name>_training_runs`; returns the record with its registered version."""
    if record.mlflow_run_id is None:
        model.write().overwrite().save(record.model_path)
    else:
        with mlflow_run(cfg, run_id=record.mlflow_run_id):
            version = log_training(
                contract,
                model,
                params=run_params(cfg),
                tags=run_tags(record),
                metrics=json.loads(record.validation_metrics),
                config_yaml=yaml.safe_dump(cfg.as_dict(), sort_keys=False),
                registered_name=registered_model_name(cfg),
            )
        record = replace(record, registered_model=registered_model_name(cfg), model_version=version)
    runs = spark.createDataFrame([tuple(asdict(record).values())], RUNS_SCHEMA)
    Tables(cfg).upsert(runs, "training_runs", "run_id", record.run_id, new=new_run)
    return record
