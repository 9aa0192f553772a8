"""What a model logged to MLflow carries so that it loads anywhere (its signature, the packages loading it
needs), and loading a run's model back."""

from __future__ import annotations

from functools import cache
from importlib.metadata import packages_distributions, version
from typing import Any

from speedrun.transforms.contract import Contract


def load_model(path: str) -> Any:
    """A run's fitted pipeline: from MLflow (`models:/...`, `runs:/...`) or from a folder."""
    if not path.startswith(("models:/", "runs:/")):
        from pyspark.ml import PipelineModel

        return PipelineModel.load(path)
    import mlflow.spark

    return mlflow.spark.load_model(path)


def model_requirements(model_type: str) -> list[str]:
    """What loading the model needs installed (`spark_udf`, serving with a restored environment): the pyspark it
    was fitted with, and for xgboost the xgboost distribution installed here with what its Spark stage imports."""
    modules = ["pyspark", *(["xgboost", "pandas", "pyarrow"] if model_type == "xgboost" else [])]
    return [installed(module) for module in modules]


@cache
def providers() -> dict[str, list[str]]:
    """Each importable module's distributions (a scan of every installed package: once per process)."""
    return packages_distributions()


def installed(module: str) -> str:
    """`distribution==version` of the distribution that provides `module` here (xgboost comes as `xgboost` or as
    `xgboost-cpu`)."""
    distribution = providers().get(module, [module])[0]
    return f"{distribution}=={version(distribution)}"


def model_signature(contract: Contract):
    """The features by name, of any type (the model's first stage types them: an integer column as pandas reads
    it, or a number written as text, is taken as it comes; MLflow would refuse an int64 column declared double),
    and the predicted class by name."""
    from mlflow.models.signature import ModelSignature
    from mlflow.types.schema import AnyType, ColSpec, Schema

    inputs = [ColSpec(AnyType(), c) for c in contract.features]
    return ModelSignature(inputs=Schema(inputs), outputs=Schema([ColSpec("string")]))
