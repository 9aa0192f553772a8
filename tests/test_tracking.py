"""MLflow opened in the background while the JVM starts (a real local SQLite store, no mocks)."""

from __future__ import annotations

import os
import time
from importlib.metadata import PackageNotFoundError, distribution, version
from pathlib import Path

import mlflow
import pytest

from speedrun.config import load_config
from speedrun.edges import tracking
from speedrun.edges.local_store import create_store, empty_store
from speedrun.edges.logged_model import installed, model_requirements


def test_the_store_and_experiment_are_ready_before_the_first_run(tmp_path: Path, make_config, monkeypatch) -> None:
    # GIVEN a work folder with no MLflow store yet
    cfg = make_config()
    # WHEN tracking is started in the background and then waited for
    tracking.start_tracking(cfg).result(timeout=120)
    # THEN the store exists with the run's experiment, before any run began
    assert (tmp_path / "mlflow.db").is_file()
    client = mlflow.MlflowClient(tracking_uri=tracking.tracking_uri(cfg))
    assert client.get_experiment_by_name(tracking.experiment_name(cfg)) is not None
    # AND the first run takes the prepared store over
    with tracking.mlflow_run(cfg, run_name="first") as run:
        assert run.info.run_name == "first"


def test_a_run_begun_while_the_store_is_being_opened_waits_for_it(make_config) -> None:
    # GIVEN tracking started in the background on a work folder with no store yet
    cfg = make_config()
    opening = tracking.start_tracking(cfg)
    # WHEN a run is begun at once, without waiting for it
    with tracking.mlflow_run(cfg, run_name="at-once") as run:
        run_id = run.info.run_id
    # THEN both end well, and the run is in the one experiment of the store
    opening.result(timeout=120)  # raises what opening the store raised
    experiment = mlflow.MlflowClient(tracking.tracking_uri(cfg)).get_experiment_by_name(tracking.experiment_name(cfg))
    assert mlflow.get_run(run_id).info.experiment_id == experiment.experiment_id


def test_no_tracking_starts_nothing(make_config) -> None:
    assert tracking.start_tracking(make_config("tracking.enabled=false")) is None


def test_on_databricks_spark_models_are_staged_in_the_runs_volume(monkeypatch) -> None:
    # GIVEN a job on Databricks whose run names its catalog and schema at run time (job parameters), and no
    # staging folder set on the cluster
    monkeypatch.setenv("DATABRICKS_RUNTIME_VERSION", "17.3")
    monkeypatch.delenv("MLFLOW_DFS_TMP", raising=False)
    cfg = load_config("default", ["storage.catalog=prod_cat", "storage.work_dir=/Volumes/prod_cat/churn/speedrun"])
    # WHEN MLflow is prepared for the run
    tracking.stage_models_in_work_dir(cfg)
    # THEN Spark models are staged in that run's volume, not in the DBFS root
    assert os.environ["MLFLOW_DFS_TMP"] == "/Volumes/prod_cat/churn/speedrun/mlflow-tmp"


def test_off_databricks_the_staging_folder_is_left_alone(monkeypatch) -> None:
    monkeypatch.delenv("DATABRICKS_RUNTIME_VERSION", raising=False)
    monkeypatch.delenv("MLFLOW_DFS_TMP", raising=False)
    tracking.stage_models_in_work_dir(load_config("default", []))
    assert "MLFLOW_DFS_TMP" not in os.environ


def test_a_model_is_logged_with_what_loading_it_needs() -> None:
    # WHEN the requirements of a Spark ML model and of an xgboost model are listed
    spark_ml, xgb = model_requirements("random_forest"), model_requirements("xgboost")
    # THEN each names the pyspark it was fitted with, and xgboost's the xgboost installed here and what it imports
    assert spark_ml == [f"pyspark=={version('pyspark')}"]
    provider = xgb[1].split("==")[0]
    assert "xgboost/__init__.py" in {str(f) for f in distribution(provider).files}
    imported = [f"{d}=={version(d)}" for d in (provider, "pandas", "pyarrow")]
    assert xgb == [*spark_ml, *imported]


def test_a_module_no_installed_distribution_provides_is_named() -> None:
    # WHEN the requirement of a module nothing installed provides is asked for THEN the error names the module
    with pytest.raises(PackageNotFoundError, match="no_such_module: none of no_such_module is installed"):
        installed("no_such_module")


def test_a_new_store_is_a_copy_of_the_empty_one_with_its_own_default_experiment(tmp_path: Path) -> None:
    # GIVEN no empty store made yet in a cache folder
    cache = tmp_path / "cache"
    # WHEN two stores are created in two work folders
    for work in ("a", "b"):
        (tmp_path / work).mkdir()
        create_store(tmp_path / work / "mlflow.db", cache)
    made = empty_store(cache).stat().st_mtime_ns
    # THEN the empty store was made once, and each copy opens as a store MLflow made: its default experiment
    # made on opening (as MLflow makes it in a new store), and an experiment and a run can be made in it
    assert [p.name for p in cache.iterdir()] == [f"empty-{mlflow.__version__}.db"]
    for work in ("a", "b"):
        opened = time.time() * 1000
        client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{tmp_path / work / 'mlflow.db'}")
        default = client.get_experiment("0")
        assert default.name == "Default" and default.creation_time >= opened - 1
        experiment = client.create_experiment("e", artifact_location=(tmp_path / work / "art").as_uri())
        assert client.create_run(experiment).info.experiment_id == experiment
    assert empty_store(cache).stat().st_mtime_ns == made


def test_a_store_removed_while_the_process_goes_on_is_made_again(make_config, tmp_path: Path) -> None:
    # GIVEN a run tracked and its model version registered in a work folder's store, in this process (as in the
    # warm server)
    cfg = make_config()
    with tracking.mlflow_run(cfg, run_name="before"):
        pass
    mlflow.MlflowClient().create_registered_model("m")
    # WHEN the work folder's store is removed, and a run is tracked and a model registered again
    for leftover in tmp_path.glob("mlflow.db*"):
        leftover.unlink()
    with tracking.mlflow_run(cfg, run_name="after") as run:
        run_id = run.info.run_id
    mlflow.MlflowClient().create_registered_model("m")
    # THEN the new store holds them, and nothing of before
    assert [
        r.info.run_name
        for r in mlflow.search_runs(experiment_names=[tracking.experiment_name(cfg)], output_format="list")
    ] == ["after"]
    assert mlflow.get_run(run_id).info.run_name == "after"
    assert [m.name for m in mlflow.MlflowClient().search_registered_models()] == ["m"]
