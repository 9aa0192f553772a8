"""The model registry (MLflow's locally, Unity Catalog's on Databricks): its aliases."""

from __future__ import annotations

from speedrun.errors import SpeedrunError

CHAMPION, CHALLENGER = "champion", "challenger"


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
