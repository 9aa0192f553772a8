"""The registry's aliases: only "no such alias" means no champion; any other registry error is an error."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pytest
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE, PERMISSION_DENIED, RESOURCE_DOES_NOT_EXIST

from speedrun.edges.registry import CHAMPION, alias_is_missing, version_by_alias
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


def test_a_local_registry_without_the_alias_gives_none_and_an_unreadable_one_an_error(tmp_path: Path) -> None:
    # GIVEN a local registry holding one model with no alias
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    mlflow.set_registry_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    mlflow.MlflowClient().create_registered_model("m")
    # THEN its champion, and that of a model never registered, is None
    assert version_by_alias("m", CHAMPION) is None
    assert version_by_alias("never_registered", CHAMPION) is None
    # AND an alias name the registry refuses is an error naming the alias and the model, not "no champion"
    with pytest.raises(SpeedrunError, match=r"cannot read alias bad/alias of m: "):
        version_by_alias("m", "bad/alias")
