"""MLflow tracking: a local SQLite store in the work folder by default; the workspace's tracking on Databricks.

Locally, `mlflow ui --backend-store-uri sqlite:///work/mlflow.db` opens it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from speedrun.config import Config
from speedrun.edges.local_store import create_store
from speedrun.edges.logged_model import model_requirements
from speedrun.edges.session import on_databricks

for noisy in ("mlflow", "alembic", "mlflow.store.db.utils"):
    logging.getLogger(noisy).setLevel(logging.WARNING)


def tracking_uri(cfg: Config) -> str:
    if cfg.tracking.uri:
        return cfg.tracking.uri
    if on_databricks():
        return "databricks"
    return f"sqlite:///{Path(cfg.storage.resolve('mlflow.db')).resolve()}"


def registered_model_name(cfg: Config) -> str:
    """`<model_name>` locally; `catalog.schema.<model_name>` in Unity Catalog."""
    name = cfg.registry.model_name or f"{cfg.name}_classifier"
    return f"{cfg.storage.catalog}.{cfg.storage.schema_name}.{name}" if cfg.storage.catalog else name


def experiment_name(cfg: Config) -> str:
    return cfg.tracking.experiment or f"speedrun-{cfg.name}"


def model_staging_dir(cfg: Config) -> str:
    """Where MLflow stages a Spark model it logs or loads: in the work folder, on Databricks the run's volume."""
    return cfg.storage.resolve("mlflow-tmp")


def stage_models_in_work_dir(cfg: Config) -> None:
    """On Databricks, MLflow stages Spark models in `MLFLOW_DFS_TMP`, by default a folder of the DBFS root, which
    many workspaces disable: point it at the work folder's volume, taken from this run's config (so a job
    parameter that changes the catalog or schema moves it too), unless the cluster sets it."""
    if on_databricks():
        os.environ.setdefault("MLFLOW_DFS_TMP", model_staging_dir(cfg))


def use_experiment(cfg: Config) -> None:
    """Point MLflow at the configured store and experiment, creating them on first use."""
    import mlflow

    stage_models_in_work_dir(cfg)
    uri = tracking_uri(cfg)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri("databricks-uc" if uri == "databricks" else uri)
    name = experiment_name(cfg)
    if uri.startswith("sqlite:"):
        store = Path(uri.removeprefix("sqlite:///"))
        with only_this_process(store):
            if not store.exists():
                forget_removed_store(uri)
                create_store(store)
            if mlflow.get_experiment_by_name(name) is None:
                artifacts = Path(cfg.storage.resolve("mlartifacts")).resolve()
                artifacts.mkdir(parents=True, exist_ok=True)
                mlflow.create_experiment(name, artifact_location=artifacts.as_uri())
    mlflow.set_experiment(name)


def forget_removed_store(uri: str) -> None:
    """MLflow keeps, for the process, one store and one SQLAlchemy engine per store URI: when the store's file was
    removed since (the work folder deleted while the warm server went on), they would write to the removed file
    ("attempt to write a readonly database"). Drop them, so that the new file gets its own."""
    from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore as RegistryStore
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore as TrackingStore
    from mlflow.tracking._model_registry.registry import ModelRegistryStoreRegistry
    from mlflow.tracking._tracking_service.registry import TrackingStoreRegistry

    for store in (TrackingStore, RegistryStore):
        if (engine := store._engine_map.pop(uri, None)) is not None:
            engine.dispose()
    for registry in (TrackingStoreRegistry, ModelRegistryStoreRegistry):
        registry._get_store_with_resolved_uri.cache_clear()


@contextmanager
def only_this_process(store: Path) -> Iterator[None]:
    """Hold an exclusive lock beside a local store while creating it and its experiment: two runs started at
    once would otherwise both create the SQLite schema (MLflow's migration fails in the second) or the same
    experiment."""
    import fcntl

    store.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{store}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def start_tracking(cfg: Config) -> Future | None:
    """Import MLflow and open (or create) the store and experiment in a background thread, so that it happens
    while the JVM starts and the first steps run (seconds of work otherwise on the critical path). The caller
    owns the returned handle; nothing needs to wait for it: a run that opens the store meanwhile waits at the
    same import and store lock, and meets any error of it itself."""
    if not cfg.tracking.enabled:
        return None
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="speedrun-tracking")
    opening = pool.submit(_open_tracking, cfg)
    pool.shutdown(wait=False)
    return opening


def _open_tracking(cfg: Config) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # the report's charts: imported early, off the critical path
    import mlflow.spark  # noqa: F401
    from mlflow.utils.requirements_utils import warn_dependency_requirement_mismatches

    use_experiment(cfg)
    # log_model checks the model's requirements against the installed packages; the first check maps every
    # installed package to its modules, done here instead of on the critical path.
    warn_dependency_requirement_mismatches(model_requirements(cfg.model.type))


@contextmanager
def mlflow_run(cfg: Config, run_name: str | None = None, run_id: str | None = None) -> Iterator[Any]:
    """An MLflow run (a new one named `run_name`, or the existing `run_id`); nothing when tracking is off."""
    if not cfg.tracking.enabled:
        yield None
        return
    import mlflow

    use_experiment(cfg)
    # a step retried under the same run id (a job's task retry) goes on in the MLflow run it began
    run_id = run_id or (run_name and run_named(cfg, run_name))
    with mlflow.start_run(run_id=run_id, run_name=None if run_id else run_name) as run:
        yield run


def run_named(cfg: Config, run_name: str) -> str | None:
    """The MLflow run of the experiment named `run_name`, if one was begun (the earliest)."""
    import mlflow

    found = mlflow.search_runs(
        experiment_names=[experiment_name(cfg)],
        filter_string=f"attributes.run_name = '{run_name}'",
        order_by=["attributes.start_time ASC"],
        max_results=1,
        output_format="list",
    )
    return found[0].info.run_id if found else None
