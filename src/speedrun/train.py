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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from functools import partial
from typing import Any

import yaml
from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.feature import StringIndexerModel
from pyspark.sql import DataFrame, SparkSession

import speedrun
from speedrun.background import BackgroundWrites
from speedrun.columns import ROW_KEY, column
from speedrun.config import Config
from speedrun.contract import Contract, contract_of
from speedrun.features import BINNED_MODELS, classifier_params, ml_names, ml_pipeline, tree_bins
from speedrun.metrics import classification_metrics
from speedrun.progress import step
from speedrun.runs import RUNS_SCHEMA, TrainingRun, git_commit, new_run_id, run_params, run_tags
from speedrun.split import SPLITS, SplitResult, checked_split, rows_of, split_versions
from speedrun.tables import Tables
from speedrun.tracking import load_logged_model, log_training, mlflow_run, registered_model_name


def fixed_layout(df: DataFrame, partitions: int) -> DataFrame:
    """The same rows in the same partitions in the same order, whatever the input's layout or the cores:
    fits and metrics sum per partition, so this is what makes a refit reproduce its model bit for bit."""
    others = [column(c) for c in df.columns if c != ROW_KEY]
    return df.repartition(partitions, ROW_KEY).sortWithinPartitions(ROW_KEY, *others)


def fit(cfg: Config, training: DataFrame) -> PipelineModel:
    """Fit the configured pipeline on the training rows, laid out the reproducible way. Trees get as many bins
    as the categorical feature with the most values needs (the indexers are fitted first, as the pipeline would)."""
    rows = fixed_layout(training, cfg.train.partitions).persist()
    try:
        contract = contract_of(training)
        stages = ml_pipeline(cfg, contract).getStages()
        if cfg.model.type not in BINNED_MODELS:
            return Pipeline(stages=stages).fit(rows)
        preprocessing = Pipeline(stages=stages[:-1]).fit(rows)
        classifier = sized_for(cfg, stages[-1], preprocessing, contract)
        return PipelineModel(stages=[*preprocessing.stages, classifier.fit(preprocessing.transform(rows))])
    finally:
        rows.unpersist()


def sized_for(cfg: Config, classifier, preprocessing: PipelineModel, contract: Contract):
    """`classifier`, with Spark's trees given the bins the fitted indexers' widest categorical feature needs."""
    if cfg.model.type not in BINNED_MODELS:
        return classifier
    return classifier.setMaxBins(tree_bins(cfg, category_counts(preprocessing, ml_names(contract.features))))


def category_counts(preprocessing: PipelineModel, names: dict[str, str]) -> dict[str, int]:
    """Each categorical feature's number of values as indexed, plus the bucket of unseen and missing ones, by
    the feature's own name (`names`: each feature's name inside the stages, from `ml_names`)."""
    own_name = {stand_in: name for name, stand_in in names.items()}
    counts = {}
    for stage in preprocessing.stages:
        if isinstance(stage, StringIndexerModel):
            for column, labels in zip(stage.getInputCols(), stage.labelsArray, strict=True):
                counts[own_name[column]] = len(labels) + 1
    return counts


@contextmanager
def predictions_of(cfg: Config, model: PipelineModel, rows: DataFrame) -> Iterator[DataFrame]:
    """`model`'s predictions for `rows` in the fixed layout (so metrics sum in a fixed order), cached while used."""
    predictions = model.transform(fixed_layout(rows, cfg.train.partitions)).persist()
    try:
        yield predictions
    finally:
        predictions.unpersist()


def metrics_on(cfg: Config, model: PipelineModel, rows: DataFrame) -> tuple[dict[str, float], list[list[int]]]:
    """Metrics and confusion matrix of `model` on `rows` (empty when there are no rows)."""
    predictions = model.transform(fixed_layout(rows, cfg.train.partitions))
    return classification_metrics(predictions, len(contract_of(rows).classes))


def model_path(cfg: Config, run_id: str) -> str:
    return cfg.storage.resolve(f"models/{cfg.name}/{run_id}")


def load_model(path: str) -> PipelineModel:
    """A run's fitted pipeline: from MLflow (`models:/...`, `runs:/...`) or from a folder."""
    return load_logged_model(path) if path.startswith(("models:/", "runs:/")) else PipelineModel.load(path)


@dataclass(frozen=True)
class SplitLineage:
    """The versions a run's rows come from."""

    versions: dict[str, int]  # each split's table version (silver's; silver_test's for a given test file)
    silver_version: int
    bronze_version: int | None


@dataclass(frozen=True)
class SplitRows:
    """The rows of each split, their counts, and where they come from (`lineage()`: in `run`, known once the
    writes of bronze and silver are done, which it waits for)."""

    rows: dict[str, DataFrame]
    split: SplitResult
    lineage: Callable[[], SplitLineage]


def bronze_version_of(spark: SparkSession, tables: Tables, silver_version: int) -> int | None:
    """The bronze version silver was cleaned from, through silver versions that only re-split it."""
    lineage = tables.commit(spark, "silver", silver_version).lineage
    for _ in range(100):
        if "silver" not in lineage:
            break
        lineage = tables.commit(spark, "silver", lineage["silver"]).lineage
    return lineage.get("bronze")


def read_split_rows(
    spark: SparkSession,
    cfg: Config,
    versions_of: dict[str, int] | None = None,
    keep: Callable[[DataFrame], DataFrame] = lambda rows: rows,
) -> SplitRows:
    """Silver (and silver_test) as split rows, checked as the split step checks them: at the versions in
    `versions_of` (by role), else the latest; each table's rows passed through `keep` (a cache) once read."""
    tables, versions_of = Tables(cfg), versions_of or {}
    silver_version = versions_of.get("silver", tables.version(spark, "silver"))
    silver = keep(tables.read(spark, "silver", silver_version))
    silver_test, versions = None, split_versions(silver_version, None)
    if cfg.test_source is not None:
        versions = split_versions(silver_version, versions_of.get("silver_test", tables.version(spark, "silver_test")))
        silver_test = keep(tables.read(spark, "silver_test", versions["test"]))
    rows = {name: rows_of(silver, name, silver_test) for name in SPLITS}
    lineage = SplitLineage(versions, silver_version, bronze_version_of(spark, tables, silver_version))
    return SplitRows(rows, checked_split(cfg, silver, silver_test), lambda: lineage)


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
            record = training_record(spark, cfg, run_id, started, inputs, validation, tracked)
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


def training_record(
    spark: SparkSession,
    cfg: Config,
    run_id: str,
    started: datetime,
    inputs: SplitRows,
    validation_metrics: dict[str, float],
    tracked: Any,
) -> TrainingRun:
    """The run's record: what was fitted, on which rows of which table versions (waiting for them in `run`)."""
    lineage, rows = inputs.lineage(), inputs.split.rows
    mlflow_run_id = tracked.info.run_id if tracked else None
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
        train_version=lineage.versions["train"],
        validation_version=lineage.versions["validation"],
        test_version=lineage.versions["test"],
        train_rows=rows["train"],
        validation_rows=rows["validation"],
        test_rows=rows["test"],
        validation_metrics=json.dumps(validation_metrics, sort_keys=True),
        started_at=started,
        finished_at=datetime.now(timezone.utc),
        speedrun_version=speedrun.__version__,
        spark_version=spark.version,
        git_commit=git_commit(),
        mlflow_run_id=mlflow_run_id,
        target=os.environ.get("SPEEDRUN_TARGET"),
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
