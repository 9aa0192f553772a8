"""What a run logs to MLflow, on the active run: its params and lineage tags, validation and test metrics, the
resolved config, the fitted pipeline (registered as a new model version), the report, and tuning candidates as
child runs. A retried step (a job's task retry, same run id, same inputs) logs nothing twice."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from speedrun.config import Config
from speedrun.edges.logged_model import model_signature
from speedrun.edges.runs import TrainingRun
from speedrun.errors import SpeedrunError
from speedrun.transforms.contract import Contract
from speedrun.transforms.features import classifier_params


def not_yet_logged(metrics: dict[str, float]) -> dict[str, float]:
    """The metrics the active run does not hold yet with these values: a retried step logs nothing twice."""
    import mlflow

    logged = mlflow.get_run(mlflow.active_run().info.run_id).data.metrics
    return {k: v for k, v in metrics.items() if logged.get(k) != v}


LINEAGE_TAGS = ("speedrun.config_hash", "speedrun.silver_version", "speedrun.test_version")


def same_inputs(tags: dict[str, Any]) -> bool:
    """Whether the active run was begun before on the same config and table versions (a retry, not a rerun on
    new data under the same run id)."""
    import mlflow

    logged = mlflow.get_run(mlflow.active_run().info.run_id).data.tags
    return all(key in logged and logged[key] == str(tags.get(key)) for key in LINEAGE_TAGS)


def registered_version(registered_name: str) -> str | None:
    """The version of `registered_name` the active run already registered and made ready (a retry), if any.
    Unity Catalog's registry takes one search condition: the run's versions are found by `run_id` alone, page by
    page, and the name and status are checked here."""
    import mlflow

    client, run_id, token = mlflow.MlflowClient(), mlflow.active_run().info.run_id, None
    while True:
        page = client.search_model_versions(f"run_id = '{run_id}'", page_token=token)
        ready = ready_version(page, registered_name)
        if ready is not None or not page.token:
            return ready
        token = page.token


def ready_version(versions: Iterable[Any], registered_name: str) -> str | None:
    """The first of `versions` (MLflow model versions) of `registered_name` whose registration finished: one
    pending or failed does not count as registered."""
    return next((str(v.version) for v in versions if v.name == registered_name and v.status == "READY"), None)


def log_training(
    contract: Contract,
    model: Any,
    params: dict[str, Any],
    tags: dict[str, Any],
    metrics: dict[str, float],
    config_yaml: str,
    registered_name: str,
    requirements: list[str],
    kept_with_model: dict[str, Any] | None = None,
) -> str:
    """Params, tags, validation metrics, the resolved config and the fitted pipeline, on the active run; the
    pipeline is registered as a new version of `registered_name`, its metadata holding the contract and
    `kept_with_model` (the decision threshold, the training rows' profile)."""
    import mlflow
    import mlflow.spark
    from mlflow.exceptions import MlflowException

    retried = same_inputs(tags)
    try:
        mlflow.log_params(params)
    except MlflowException as exc:
        if "Changing param values is not allowed" not in str(exc):
            raise
        run = tags.get("speedrun.run_id")
        raise SpeedrunError(
            f"run id {run} was used before with another config: give this run a --run-id of its own"
        ) from None
    mlflow.set_tags({k: v for k, v in tags.items() if v is not None})
    mlflow.log_metrics(not_yet_logged({f"validation_{k}": v for k, v in metrics.items()}))
    mlflow.log_text(config_yaml, "config.yml")
    already = registered_version(registered_name) if retried else None
    if already is not None:
        return already  # a retry refits the same model from the same rows, bit for bit: its version stands
    # Requirements given, not inferred: inferring them is most of log_model's time.
    info = mlflow.spark.log_model(
        model,
        artifact_path="model",
        pip_requirements=requirements,
        signature=model_signature(contract),
        registered_model_name=registered_name,
        metadata={"speedrun_contract": asdict(contract), **(kept_with_model or {})},
    )
    return str(info.registered_model_version)


def log_evaluation(metrics: dict[str, float], metrics_json: Path, report_folder: Path) -> None:
    """Test metrics, the metrics JSON and the report, on the active run."""
    import mlflow

    mlflow.log_metrics(not_yet_logged({f"test_{k}": v for k, v in metrics.items()}))
    mlflow.log_artifact(str(metrics_json))
    mlflow.log_artifacts(str(report_folder), "report")


def log_candidate(run_id: str, trial: Any) -> None:
    """A tuning candidate as a child run of the active (training) run: its parameters, validation metrics, time."""
    import mlflow

    with mlflow.start_run(run_name=f"{run_id}-candidate-{trial.number}", nested=True):
        mlflow.log_params(trial.params)
        mlflow.log_metrics({**{f"validation_{k}": v for k, v in trial.metrics.items()}, "seconds": trial.seconds})


def run_params(cfg: Config) -> dict[str, object]:
    return {
        "model_type": cfg.model.type,
        **{f"model.{k}": v for k, v in classifier_params(cfg.model).items()},
        "split.train": cfg.split.train,
        "split.validation": cfg.split.validation,
        "split.test": cfg.split.test,
        "split.seed": cfg.split.seed,
        "features.impute_strategy": cfg.features.impute_strategy,
        "features.scale": cfg.features.scale,
        "train.partitions": cfg.train.partitions,
        "train.class_weight": cfg.train.class_weight,
        "train.threshold": str(cfg.train.threshold),
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
