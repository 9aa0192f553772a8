"""The model registry (MLflow's locally, Unity Catalog's on Databricks): its aliases, and a registered model
loaded with what is kept with it."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from pyspark.sql import SparkSession

from speedrun.config import Config
from speedrun.edges.logged_model import load_model
from speedrun.edges.tracking import registered_model_name, use_experiment
from speedrun.errors import SpeedrunError
from speedrun.transforms.contract import Contract
from speedrun.transforms.decided_class import deciding
from speedrun.transforms.drift import Profile

# candidate: evaluated (its test metrics recorded), for the promotion job's gate; challenger: it passed the gate;
# champion: the version that scores
CANDIDATE, CHAMPION, CHALLENGER = "candidate", "champion", "challenger"


def client():
    import mlflow

    return mlflow.MlflowClient()


def alias_is_missing(exc: Exception) -> bool:
    """Whether a registry error says only that the alias (or the model) does not exist: MLflow's stores raise
    RESOURCE_DOES_NOT_EXIST for a missing model, INVALID_PARAMETER_VALUE "alias ... not found" for a missing alias."""
    code = getattr(exc, "error_code", "")
    message = str(exc).lower()
    return code == "RESOURCE_DOES_NOT_EXIST" or (
        code == "INVALID_PARAMETER_VALUE" and "alias" in message and ("not found" in message or "not exist" in message)
    )


def version_by_alias(name: str, alias: str) -> str | None:
    """The version `alias` points to; None when there is no such alias. Any other registry error (no permission,
    the registry unreachable) is an error: validate must not skip the champion comparison because of it."""
    from mlflow.exceptions import MlflowException

    try:
        return str(client().get_model_version_by_alias(name, alias).version)
    except MlflowException as exc:
        if alias_is_missing(exc):
            return None
        raise SpeedrunError(f"cannot read alias {alias} of {name}: {str(exc).splitlines()[0]}") from None


def mark_candidate(cfg: Config, name: str | None, version: str | None) -> None:
    """Point `candidate` at `version` of `name`, whose test metrics are recorded: the model update the promotion
    job starts on (nothing when the run registered no version)."""
    if name and version:
        use_experiment(cfg)
        client().set_registered_model_alias(name, CANDIDATE, version)


def version_named(name: str, version: str) -> str:
    """A version given by number or by alias (`candidate`, `champion`...), as its number."""
    if version.isdigit():
        return version
    found = version_by_alias(name, version)
    if found is None:
        raise SpeedrunError(f"{name} has no alias {version}: give a version number, or an alias it has")
    return found


@dataclass(frozen=True)
class Registered:
    """A registered model version, ending in its `DecidedClass` stage, and what is kept with it."""

    model: Any  # a PipelineModel
    contract: Contract
    name: str
    version: str
    profile: Profile  # its training rows' profile, for the drift of a scored batch (empty: registered without)


LOADED: OrderedDict[tuple, Registered] = OrderedDict()  # the last few versions loaded in this process
KEPT_LOADED = 4


def registered_model(cfg: Config, version: str | None) -> Registered:
    """The registered pipeline (the champion's version, or a given one), with its contract, name, version and
    training profile; a model an earlier speedrun registered gets its decided class from its kept threshold.
    A version loaded before in this Spark application is not loaded again (the warm server's next batch): a
    registered version's files never change, and the key holds the registry, the version's run and creation
    time (a registry made anew under the same path numbers its versions from 1 again)."""
    import mlflow
    from mlflow.exceptions import MlflowException

    use_experiment(cfg)
    name = registered_model_name(cfg)
    version = version or version_by_alias(name, CHAMPION)
    if version is None:
        raise SpeedrunError(f"{name} has no {CHAMPION}: run `speedrun promote` first, or give --version")
    uri = f"models:/{name}/{version}"
    try:
        found = client().get_model_version(name, version)
        spark = SparkSession.getActiveSession()
        key = (mlflow.get_registry_uri(), name, version, found.run_id, found.creation_timestamp, app_id(spark))
        if key not in LOADED:
            LOADED[key] = loaded(uri, name, version)
            while len(LOADED) > KEPT_LOADED:
                LOADED.popitem(last=False)
        LOADED.move_to_end(key)
        return LOADED[key]
    except MlflowException as exc:
        raise SpeedrunError(f"cannot load {uri}: {str(exc).splitlines()[0]}") from None


def app_id(spark: SparkSession | None) -> str | None:
    return spark.sparkContext.applicationId if spark is not None else None


def loaded(uri: str, name: str, version: str) -> Registered:
    import mlflow

    kept = mlflow.models.get_model_info(uri).metadata or {}
    model = load_model(uri)
    contract = Contract(**kept["speedrun_contract"])
    model = deciding(model, contract.classes, kept.get("speedrun_threshold"))
    return Registered(model, contract, name, version, kept.get("speedrun_profile") or {})
