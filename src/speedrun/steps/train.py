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
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, replace
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

import yaml
from pyspark.ml import PipelineModel
from pyspark.sql import DataFrame, SparkSession

import speedrun
from speedrun.code import code_hash
from speedrun.config import Config
from speedrun.context import RunContext, RunOptions
from speedrun.edges.kept_inputs import KEPT
from speedrun.edges.leaderboard import write_leaderboard
from speedrun.edges.logged_model import model_requirements
from speedrun.edges.mlflow_logging import log_candidate, log_training, run_params, run_tags
from speedrun.edges.model_files import moved_from_staging, with_kept_stages
from speedrun.edges.profiles import kept_profile
from speedrun.edges.runs import RUNS_SCHEMA, Trained, TrainingRun, git_commit, new_run_id, weighing, with_decision
from speedrun.edges.tables import Tables
from speedrun.edges.tracking import mlflow_run, registered_model_name
from speedrun.progress import step
from speedrun.transforms.contract import contract_of
from speedrun.transforms.decided_class import deciding
from speedrun.transforms.drift import profiled_rows, training_profile
from speedrun.transforms.features import classifier_params
from speedrun.transforms.fit import Chosen, Rows, fit_configured, stopped_at
from speedrun.transforms.splits import SPLITS, SplitResult, checked_split
from speedrun.transforms.tuning import choose

# how a run gets its model: (config, split rows, rows per split and class, run id, tracked) -> `fit.Chosen`
ChooseModel = Callable[[Config, Rows, dict[str, Counter], str, bool], Chosen]


def model_path(cfg: Config, run_id: str) -> str:
    return cfg.storage.resolve(f"models/{cfg.name}/{run_id}")


def train(ctx: RunContext, checked: SplitResult | None = None) -> Trained:
    """Fit on the split's train rows (those this run holds, else the latest silver's) and record the run: the
    configured model, or with tuning (`speedrun tune`, a config with a `search:` section) the search's best on
    validation. `checked`: the split step's result (alone, the split is checked here as the split step checks
    it). The model is logged, registered and recorded at once, or in the background inside `run`."""
    cfg, spark = ctx.cfg, ctx.spark
    run_id = ctx.options.run_id or new_run_id()
    started = datetime.now(timezone.utc)
    with step("train") as progress:
        rows = ctx.split_rows()
        if checked is None:
            test = rows["test"] if cfg.test_source else None
            checked = checked_split(ctx.read("silver"), test, cfg.split.validation > 0)
        with mlflow_run(cfg, run_name=run_id) as tracked:
            chosen_by = tuner(ctx.options.budget) if ctx.tuning else configured
            model_cfg, model, validation, decision = chosen_by(cfg, rows, checked.counts, run_id, tracked is not None)
            times = (started, datetime.now(timezone.utc))
            versions = {**ctx.split_versions(), "silver": ctx.version("silver"), "bronze": ctx.bronze_version()}
            mlflow_run_id = tracked.info.run_id if tracked else None
            origin = made_with(spark, ctx.options)
            record = training_record(
                model_cfg, run_id, times, versions, checked.rows, validation, mlflow_run_id, origin
            )
            record = with_decision(record, decision, contract_of(rows["train"]).classes)
        new_run = ctx.options.run_id is None
        keep = partial(keep_model_and_record, spark, ctx.tables, model_cfg, record, model, rows["train"], new_run)
        kept = ctx.later("training_runs", keep, lane="tracking")
        auc = validation.get("areaUnderROC")
        progress.done(
            f"{model_cfg.model.type} on {record.train_rows:,} rows -> {record.model_path}"
            + (f" (validation AUC {auc:.4f})" if auc is not None else "")
            + "".join(f"; {part}" for part in (weighing(record), decision.note, stopping(model)) if part)
        )
    return Trained(kept or record, model, new_run)


def stopping(model: PipelineModel) -> str:
    """How many rounds a model that stopped early on validation kept (nothing for one that did not)."""
    rounds = stopped_at(model.stages[-1])
    return "" if rounds is None else f"stopped early on validation at round {rounds}"


def configured(cfg: Config, rows: Rows, counts: dict[str, Counter], run_id: str, tracked: bool) -> Chosen:
    """How a run without tuning gets its model: the configured one (`fit.fit_configured`), on the training rows'
    preprocessing kept from the run before when it was the same (`edges.kept_inputs`)."""
    return fit_configured(cfg, rows, counts, KEPT)


def tuner(budget: float | None = None) -> ChooseModel:
    """How a tuning run gets its model: the search's best, each candidate an MLflow child run of the training
    run when tracked, the leaderboard in the run's report folder."""

    def choose_model(cfg: Config, rows: Rows, counts: dict[str, int], run_id: str, tracked: bool):
        chosen = choose(cfg, rows, budget, partial(log_candidate, run_id) if tracked else None, counts["train"])
        report = Path(cfg.storage.resolve(f"runs/{cfg.name}/{run_id}")) / "report"
        write_leaderboard(report, chosen.trials, chosen.metric, chosen.not_tried, chosen.budget)
        return chosen.cfg, chosen.model, chosen.validation, chosen.decision

    return choose_model


def made_with(spark: SparkSession, options: RunOptions) -> dict[str, str | None]:
    """What a run was made with and where: speedrun's and Spark's versions, the git commit, the bundle target."""
    return {
        "speedrun_version": speedrun.__version__,
        "spark_version": spark.version,
        "git_commit": options.git_commit or git_commit(),
        "target": options.target or os.environ.get("SPEEDRUN_TARGET"),
    }


def training_record(
    cfg: Config,
    run_id: str,
    times: tuple[datetime, datetime],
    versions: dict[str, int | None],
    rows: dict[str, int],
    validation_metrics: dict[str, float],
    mlflow_run_id: str | None,
    provenance: dict[str, str | None],
) -> TrainingRun:
    """The run's record (pure): what was fitted, on how many rows of which table versions (`versions`: of bronze,
    silver and each split), started and finished at `times`, made with `provenance` (`made_with`)."""
    return TrainingRun(
        run_id=run_id,
        name=cfg.name,
        model_type=cfg.model.type,
        model_params=json.dumps(classifier_params(cfg.model), sort_keys=True),
        # logged once, to MLflow, when tracking; else saved in the work folder
        model_path=f"runs:/{mlflow_run_id}/model" if mlflow_run_id else model_path(cfg, run_id),
        config=json.dumps(cfg.as_dict(), sort_keys=True),
        config_hash=cfg.digest(),
        split_seed=cfg.split.seed,
        bronze_version=versions["bronze"],
        silver_version=versions["silver"],
        **{f"{split}_version": versions[split] for split in SPLITS},
        **{f"{split}_rows": rows[split] for split in SPLITS},
        validation_metrics=json.dumps(validation_metrics, sort_keys=True),
        started_at=times[0],
        finished_at=times[1],
        mlflow_run_id=mlflow_run_id,
        code_hash=code_hash()[:16],
        **provenance,
    )


def keep_model_and_record(
    spark: SparkSession,
    tables: Tables,
    cfg: Config,
    record: TrainingRun,
    model: PipelineModel,
    training: DataFrame,
    new_run: bool = False,
) -> TrainingRun:
    """Log the model to the run's MLflow run and register it (or, without tracking, save it in the work folder),
    its threshold and the training rows' profile (for scoring's drift; made once per silver commit) in its
    metadata, then put the run's record in `<name>_training_runs`; returns the record with its registered version."""
    contract = contract_of(training)
    rounds = stopped_at(model.stages[-1])
    model = deciding(model, contract.classes, record.threshold)  # what MLflow's clients read, and `score`
    model = with_kept_stages(model, kept=len(model.stages) - 2)  # the preprocessing: copied where saved before
    if record.mlflow_run_id is None:
        model.write().overwrite().save(record.model_path)
    else:
        bins = cfg.scoring.drift.bins
        profiled = partial(training_profile, profiled_rows(training, record.train_rows), contract, bins)
        profile = kept_profile(spark, tables, record.silver_version, bins, profiled)
        with mlflow_run(cfg, run_id=record.mlflow_run_id), moved_from_staging(spark.conf.get("spark.master", "")):
            version = log_training(
                contract,
                model,
                params={**run_params(cfg), **({"model.stopped_at_round": rounds} if rounds else {})},
                tags=run_tags(record),
                metrics=json.loads(record.validation_metrics),
                config_yaml=yaml.safe_dump(cfg.as_dict(), sort_keys=False),
                registered_name=registered_model_name(cfg),
                requirements=model_requirements(cfg.model.type),
                kept_with_model={"speedrun_threshold": record.threshold, "speedrun_profile": profile},
            )
        record = replace(record, registered_model=registered_model_name(cfg), model_version=version)
    runs = spark.createDataFrame([tuple(asdict(record).values())], RUNS_SCHEMA)
    tables.upsert(runs, "training_runs", "run_id", record.run_id, new=new_run)
    return record
