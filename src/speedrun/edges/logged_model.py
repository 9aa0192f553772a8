"""What a model logged to MLflow carries so that it loads anywhere (its signature, the packages loading it
needs), and loading a run's model back."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

from speedrun.transforms.contract import Contract


def load_model(path: str) -> Any:
    """A run's fitted pipeline: from MLflow (`models:/...`, `runs:/...`) or from a folder. A model in an artifact
    store on this machine's file system is read where it is (`local_model_folder`); from elsewhere (Databricks,
    a remote store) MLflow's Spark flavor loads it."""
    from pyspark.ml import PipelineModel

    if not path.startswith(("models:/", "runs:/")):
        return PipelineModel.load(path)
    import mlflow.spark

    found = local_model_folder(path)
    return PipelineModel.load(str(found)) if found is not None else mlflow.spark.load_model(path)


def local_model_folder(uri: str) -> Path | None:
    """The Spark model's own folder inside a logged model's artifacts, when they are files on this machine; None
    otherwise. `mlflow.spark.load_model` copies the artifacts into a new temporary folder, then again into
    another (its DFS copy), at every load, and removes neither: the model's stages read their data from that
    folder lazily, so a copy cannot be removed while the model is in use. Read in place, nothing is copied."""
    from mlflow.models import Model

    location = urlparse(model_location(uri) or "")
    if location.scheme not in ("", "file") or not location.path:
        return None
    folder = Path(url2pathname(location.path))
    if not (folder / "MLmodel").is_file():
        return None
    data = (Model.load(str(folder)).flavors.get("spark") or {}).get("model_data")
    return folder / data if data and (folder / data).is_dir() else None


def model_location(uri: str) -> str | None:
    """Where the artifacts of the model that `models:/<name>/<version>`, `models:/<model id>` or
    `runs:/<run id>/<path>` names are (the folder of its MLmodel file); None for other forms (an alias, a
    stage)."""
    import mlflow

    client = mlflow.MlflowClient()
    scheme, rest = uri.split(":/", 1)
    parts = rest.strip("/").split("/")
    if scheme == "models" and len(parts) == 1 and parts[0].startswith("m-"):
        return client.get_logged_model(parts[0]).artifact_location
    if scheme == "models" and len(parts) == 2 and parts[1].isdigit():
        source = client.get_model_version(parts[0], parts[1]).source
        return model_location(source) if source.startswith(("models:/", "runs:/")) else source
    if scheme == "runs" and len(parts) >= 2:
        return f"{client.get_run(parts[0]).info.artifact_uri.rstrip('/')}/{'/'.join(parts[1:])}"
    return None


def model_requirements(model_type: str) -> list[str]:
    """What loading the model needs installed (`spark_udf`, serving with a restored environment): the pyspark it
    was fitted with, and for xgboost the xgboost distribution installed here with what its Spark stage imports."""
    modules = ["pyspark", *(["xgboost", "pandas", "pyarrow"] if model_type == "xgboost" else [])]
    return [installed(module) for module in modules]


# The distributions a module may come from, in the order looked for (xgboost comes as `xgboost` or `xgboost-cpu`);
# a module not named here comes from the distribution of its own name. Looked up by name: no scan of every
# installed package's files (`packages_distributions()` reads each one's file list: seconds on a large venv).
PROVIDERS = {"xgboost": ("xgboost", "xgboost-cpu")}


def installed(module: str) -> str:
    """`distribution==version` of the distribution that provides `module` here."""
    candidates = PROVIDERS.get(module, (module,))
    for distribution in candidates:
        try:
            return f"{distribution}=={version(distribution)}"
        except PackageNotFoundError:
            continue
    raise PackageNotFoundError(f"{module}: none of {', '.join(candidates)} is installed")


def model_signature(contract: Contract):
    """The features by name, of any type (the model's first stage types them: an integer column as pandas reads
    it, or a number written as text, is taken as it comes; MLflow would refuse an int64 column declared double),
    and the predicted class by name."""
    from mlflow.models.signature import ModelSignature
    from mlflow.types.schema import AnyType, ColSpec, Schema

    inputs = [ColSpec(AnyType(), c) for c in contract.features]
    return ModelSignature(inputs=Schema(inputs), outputs=Schema([ColSpec("string")]))
