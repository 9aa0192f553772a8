"""The registry's aliases: only "no such alias" means no champion; any other registry error is an error."""

from __future__ import annotations

import tempfile
from pathlib import Path

import mlflow
import pytest
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE, PERMISSION_DENIED, RESOURCE_DOES_NOT_EXIST

from speedrun.edges.logged_model import load_model, local_model_folder
from speedrun.edges.mlflow_logging import ready_version, registered_version
from speedrun.edges.registry import (
    CANDIDATE,
    CHAMPION,
    alias_is_missing,
    registered_model,
    version_by_alias,
    version_named,
)
from speedrun.edges.tracking import registered_model_name, use_experiment
from speedrun.errors import SpeedrunError


def test_a_missing_alias_or_model_is_no_champion() -> None:
    # GIVEN the errors MLflow's stores raise for a missing alias and a missing model
    missing_alias = MlflowException("Registered model alias champion not found.", INVALID_PARAMETER_VALUE)
    missing_model = MlflowException("Registered Model with name=x not found", RESOURCE_DOES_NOT_EXIST)
    # THEN both mean "no such alias"
    assert alias_is_missing(missing_alias) and alias_is_missing(missing_model)


def test_a_permission_error_is_not_taken_for_a_missing_champion() -> None:
    denied = MlflowException("User does not have EXECUTE on catalog main", PERMISSION_DENIED)
    bad_name = MlflowException("Invalid model name", INVALID_PARAMETER_VALUE)
    assert not alias_is_missing(denied) and not alias_is_missing(bad_name)


@pytest.fixture
def local_registry(tmp_path: Path):
    """MLflow's tracking and registry in this test's own store; both set back when the test ends (a store of a
    test whose folder is gone must not be where the next test registers)."""
    before = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    mlflow.set_tracking_uri(store)
    mlflow.set_registry_uri(store)
    yield tmp_path
    mlflow.set_tracking_uri(before[0])
    mlflow.set_registry_uri(before[1])


@pytest.mark.usefixtures("local_registry")
def test_a_local_registry_without_the_alias_gives_none_and_an_unreadable_one_an_error() -> None:
    # GIVEN a local registry holding one model with no alias
    mlflow.MlflowClient().create_registered_model("m")
    # THEN its champion, and that of a model never registered, is None
    assert version_by_alias("m", CHAMPION) is None
    assert version_by_alias("never_registered", CHAMPION) is None
    # AND an alias name the registry refuses is an error naming the alias and the model, not "no champion"
    with pytest.raises(SpeedrunError, match=r"cannot read alias bad/alias of m: "):
        version_by_alias("m", "bad/alias")


def version(name: str, number: int, status: str) -> ModelVersion:
    return ModelVersion(name=name, version=str(number), creation_timestamp=0, run_id="r", status=status)


def test_a_retry_counts_only_a_ready_version_of_its_model() -> None:
    # GIVEN a run's versions as the registry lists them: another model's, one pending, one failed, one ready
    listed = [
        version("other.model", 7, "READY"),
        version("churn", 1, "PENDING_REGISTRATION"),
        version("churn", 2, "FAILED_REGISTRATION"),
        version("churn", 3, "READY"),
    ]
    # THEN the registered version is the ready one of its own model; none is there when none is ready
    assert ready_version(listed, "churn") == "3"
    assert ready_version(listed[1:3], "churn") is None


def test_a_retry_finds_its_version_by_the_run_alone(local_registry: Path) -> None:
    # GIVEN a local registry where the active run registered a version of two models
    client = mlflow.MlflowClient()
    with mlflow.start_run(experiment_id=client.create_experiment("retries")) as run:
        for name in ("churn", "other"):
            client.create_registered_model(name)
            client.create_model_version(name, str(local_registry), run_id=run.info.run_id)
        # WHEN the run looks for its version of each (one search condition, as Unity Catalog takes)
        # THEN it finds each model's own, and none of a model it did not register
        assert registered_version("churn") == "1" and registered_version("other") == "1"
        assert registered_version("absent") is None


def test_a_version_loaded_once_is_not_loaded_again_in_the_same_spark_application(spark, trained) -> None:
    # GIVEN the shared run's registered version, loaded once
    cfg, _ = trained
    first = registered_model(cfg, "1")  # its own registry's first
    # WHEN it is asked for again, as the warm server's next batch asks
    again = registered_model(cfg, first.version)
    # THEN it is the model already loaded, with what was kept with it
    assert again is first and again.contract.features and again.name == registered_model_name(cfg)
    # AND a version the registry does not hold is one line naming it
    with pytest.raises(SpeedrunError, match=rf"cannot load models:/{registered_model_name(cfg)}/99: "):
        registered_model(cfg, "99")


def test_an_evaluated_version_is_the_candidate_and_an_alias_names_a_version(trained) -> None:
    # GIVEN the shared run, trained, registered and evaluated
    cfg, _ = trained
    name = registered_model_name(cfg)
    use_experiment(cfg)
    # THEN its version (its own registry's first) is the candidate (the promotion job's trigger), and that alias
    # names its number
    assert version_by_alias(name, CANDIDATE) == "1" == version_named(name, CANDIDATE)
    assert version_named(name, "7") == "7"
    # AND an alias the model lacks is one line naming it
    with pytest.raises(SpeedrunError, match=f"^{name} has no alias champion: give a version number, or an alias"):
        version_named(name, CHAMPION)


def test_a_logged_model_is_read_where_it_is_and_nothing_is_copied(trained, tmp_path, monkeypatch) -> None:
    # GIVEN the shared run's model, logged to its local MLflow store and registered as its first version, and an
    # empty folder for every temporary folder made from now on
    cfg, evaluation = trained
    use_experiment(cfg)
    by_run, by_version = evaluation.report["model"]["path"], f"models:/{registered_model_name(cfg)}/1"
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    # WHEN it is loaded by its run and by its registered version
    models = [load_model(uri) for uri in (by_run, by_version)]
    # THEN both are read from the logged model's own folder in the store, and nothing was copied anywhere
    assert local_model_folder(by_run) == local_model_folder(by_version)
    assert str(local_model_folder(by_run)).startswith(cfg.storage.work_dir)
    assert list(tmp_path.iterdir()) == []
    # AND each is the run's fitted pipeline
    assert [len(m.stages) for m in models] == [len(models[0].stages)] * 2 and len(models[0].stages) > 2
