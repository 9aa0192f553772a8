"""A job's task retried with the same run id: train and evaluate again add nothing twice."""

from __future__ import annotations

import mlflow
import pytest
from pyspark.sql import functions as F
from tests_support import alone

from speedrun.edges.tables import Tables
from speedrun.edges.tracking import experiment_name, registered_model_name, tracking_uri
from speedrun.errors import SpeedrunError
from speedrun.steps.evaluate import evaluate
from speedrun.steps.ingest import ingest
from speedrun.steps.prepare import prepare
from speedrun.steps.train import train
from speedrun.transforms.synthetic import synthetic_churn

pytestmark = pytest.mark.e2e


def test_a_retried_train_and_evaluate_add_no_second_run_version_row_or_metric(spark, make_config) -> None:
    # GIVEN prepared data, and train and evaluate of job run 7, each run twice (a task retry)
    cfg = make_config()
    alone(ingest, spark, cfg)
    alone(prepare, spark, cfg)
    first = alone(train, spark, cfg, run_id="job-7").record
    again = alone(train, spark, cfg, run_id="job-7").record
    alone(evaluate, spark, cfg, run_id="job-7")
    alone(evaluate, spark, cfg, run_id="job-7")
    # THEN there is one MLflow run of that name, one registered version, one runs row and one metrics row
    client = mlflow.MlflowClient(tracking_uri(cfg), registry_uri=tracking_uri(cfg))
    experiment = client.get_experiment_by_name(experiment_name(cfg))
    runs = client.search_runs([experiment.experiment_id], "attributes.run_name = 'job-7'")
    assert len(runs) == 1
    assert [str(v.version) for v in client.search_model_versions(f"name = '{registered_model_name(cfg)}'")] == ["1"]
    assert first.model_version == again.model_version == "1"
    tables = Tables(cfg)
    assert tables.read(spark, "training_runs").where(F.col("run_id") == "job-7").count() == 1
    assert tables.read(spark, "metrics").where(F.col("run_id") == "job-7").count() == 1
    # AND each metric was logged once
    run_id = runs[0].info.run_id
    assert len(client.get_metric_history(run_id, "test_areaUnderROC")) == 1
    assert len(client.get_metric_history(run_id, "validation_areaUnderROC")) == 1


def test_a_rerun_on_new_data_under_the_same_run_id_registers_its_new_model(spark, make_config) -> None:
    # GIVEN a run trained as job-8, then its source overwritten with other rows, prepared and trained again as job-8
    cfg = make_config()
    alone(ingest, spark, cfg)
    alone(prepare, spark, cfg)
    assert alone(train, spark, cfg, run_id="job-8").record.model_version == "1"
    synthetic_churn(spark, 2000, seed=99).write.mode("overwrite").option("header", True).csv(
        cfg.storage.resolve(cfg.source.path)
    )
    alone(ingest, spark, cfg)
    alone(prepare, spark, cfg)
    # THEN the new model is not taken for the old one: it gets a version of its own
    assert alone(train, spark, cfg, run_id="job-8").record.model_version == "2"
    # AND the same run id with another config is one line asking for a run id of its own
    with pytest.raises(SpeedrunError, match="run id job-8 was used before with another config: give this run a"):
        alone(train, spark, make_config("model.max_iter=7"), run_id="job-8")
