"""Reproducible runs: a split that cannot drift, refits that give the same model, lineage, MLflow, replay."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import mlflow
import pytest
from delta.tables import DeltaTable
from pyspark.sql import functions as F
from tests_support import alone, fit_with, until_the_server_is_idle

from speedrun.cli import main
from speedrun.config import load_config
from speedrun.edges.tables import Tables, read_split
from speedrun.edges.tracking import tracking_uri
from speedrun.steps.ingest import ingest
from speedrun.steps.prepare import prepare
from speedrun.steps.replay import replay
from speedrun.steps.split import split
from speedrun.transforms.cleaning import clean, to_silver
from speedrun.transforms.columns import ROW_KEY, SPLIT
from speedrun.transforms.contract import infer_contract
from speedrun.transforms.decided_class import classifier_of
from speedrun.transforms.fit import fit, metrics_on, stopped_at
from speedrun.transforms.splits import SPLITS, assign_splits
from speedrun.transforms.synthetic import synthetic_churn

QUICK = {
    "logistic_regression": "max_iter: 20",
    "random_forest": "num_trees: 5",
    "gbt": "max_iter: 5",
    "xgboost": "n_estimators: 10, num_workers: 2",
}


def silver_rows(spark, cfg, rows: int = 1500):
    """Generated rows, cleaned as prepare cleans them, without touching storage."""
    bronze = synthetic_churn(spark, rows, seed=9).withColumn("_source_file", F.lit("mem"))
    cleaned = clean(bronze, cfg.columns)
    contract = infer_contract(cleaned, cfg.columns)
    return to_silver(cleaned, contract, cfg.columns.label.column)


@pytest.mark.e2e
@pytest.mark.parametrize("model", list(QUICK))
def test_a_refit_gives_the_same_model_whatever_the_input_layout(spark, model: str) -> None:
    # GIVEN the same prepared rows in 1 and in 6 partitions, in another order
    cfg = load_config("default", [f"model={{type: {model}, {QUICK[model]}}}"])
    rows = silver_rows(spark, cfg).cache()
    # WHEN the pipeline is fitted on each
    a = fit_with(cfg, rows.repartition(1))
    b = fit_with(cfg, rows.repartition(6).orderBy(F.rand(3)))
    # THEN the models are identical, bit for bit, and so are their metrics
    if model == "logistic_regression":
        assert a.stages[-1].coefficients.toArray().tobytes() == b.stages[-1].coefficients.toArray().tobytes()
        assert a.stages[-1].intercept == b.stages[-1].intercept
    elif model == "xgboost":
        assert a.stages[-1].get_booster().save_raw("json") == b.stages[-1].get_booster().save_raw("json")
    else:
        trees = [m.stages[-1].toDebugString.split("\n", 1)[1] for m in (a, b)]  # the first line names the uid
        assert trees[0] == trees[1]
    assert metrics_on(a, rows) == metrics_on(b, rows)


EARLY = {
    "xgboost": (
        "n_estimators: 300, early_stopping_rounds: 5, learning_rate: 0.5, max_depth: 6, subsample: 0.8, "
        "colsample_bytree: 0.8, eval_metric: auc",
        300,
    ),
    "gbt": ("max_iter: 60, validation_tol: 0.01, step_size: 0.5", 60),
}


def same_model(a, b) -> bool:
    if hasattr(a, "get_booster"):
        return a.get_booster().save_raw("json") == b.get_booster().save_raw("json")
    return a.toDebugString.split("\n", 1)[1] == b.toDebugString.split("\n", 1)[1]  # the first line names the uid


@pytest.mark.e2e
@pytest.mark.parametrize("model", list(EARLY))
def test_a_model_that_stops_early_on_validation_refits_the_same_whatever_the_layout(spark, model: str) -> None:
    # GIVEN training and validation rows, each in one and in several partitions in another order, and a model
    # that stops adding trees when the validation rows stop improving
    cfg = load_config("default", [f"model={{type: {model}, {EARLY[model][0]}}}"])
    rows = silver_rows(spark, cfg).cache()
    held = F.pmod(F.xxhash64(ROW_KEY), F.lit(4)) == 0
    training, validation = rows.filter(~held), rows.filter(held)

    def fitted(train, watched):
        return fit(train, cfg.model, cfg.features, cfg.train.partitions, validation=watched)

    # WHEN it is fitted on each
    a = fitted(training.repartition(1), validation.repartition(1))
    b = fitted(training.repartition(6).orderBy(F.rand(3)), validation.repartition(3).orderBy(F.rand(4)))
    # THEN it stopped before its last round, at the same round each time, with the same model, bit for bit
    rounds = stopped_at(a.stages[-1])
    assert rounds is not None and 1 <= rounds < EARLY[model][1]
    assert stopped_at(b.stages[-1]) == rounds and same_model(a.stages[-1], b.stages[-1])
    assert metrics_on(a, validation) == metrics_on(b, validation)


@pytest.mark.e2e
def test_split_membership_survives_repartitioning_and_file_layout(spark, make_config, tmp_path: Path) -> None:
    # GIVEN the same raw rows written as 1 CSV file and as 8 CSV files
    raw = synthetic_churn(spark, 2000, seed=4)
    raw.coalesce(1).write.option("header", True).csv(str(tmp_path / "one"))
    raw.repartition(8).write.option("header", True).csv(str(tmp_path / "many"))
    memberships = []
    for layout in ("one", "many"):
        cfg = make_config(
            f"storage.work_dir={tmp_path}/{layout}-work",
            f"source.path={tmp_path}/{layout}",
            "source.generate_if_missing=null",
        )
        alone(ingest, spark, cfg)
        alone(prepare, spark, cfg)
        alone(split, spark, cfg)
        tables = Tables(cfg)
        memberships.append(
            {
                name: {r[ROW_KEY] for r in read_split(spark, cfg, name).select(ROW_KEY).collect()}
                for name in ("train", "validation", "test")
            }
        )
        silver = tables.read(spark, "silver")
    # THEN every row lands in the same split from either layout
    assert memberships[0] == memberships[1]
    # AND splitting silver in 1, 2, 8 or 200 partitions gives that same membership
    for partitions in (1, 2, 8, 200):
        tagged = assign_splits(silver.repartition(partitions), cfg.split)
        found = {
            name: {r[ROW_KEY] for r in tagged.where(F.col(SPLIT) == name).select(ROW_KEY).collect()}
            for name in ("train", "validation", "test")
        }
        assert found == memberships[0], partitions
    # AND the splits are disjoint, hold every row, and meet the fractions within sampling noise
    sizes = {name: len(keys) for name, keys in memberships[0].items()}
    assert sum(sizes.values()) == len(set().union(*memberships[0].values())) == silver.count()
    assert abs(sizes["test"] / sum(sizes.values()) - cfg.split.test) < 0.03


@pytest.mark.usefixtures("mlflow_downloads")
def test_a_run_records_its_lineage_in_delta_and_mlflow(spark, trained) -> None:
    cfg, evaluation = trained
    tables = Tables(cfg)
    run = tables.read(spark, "training_runs").where(F.col("run_id") == evaluation.report["run_id"]).first()
    # THEN the run record names the version of every input, the config and its hash, seed, versions, times
    assert (run["bronze_version"], run["silver_version"]) == (0, 0)
    assert run["train_version"] == run["validation_version"] == run["test_version"] == tables.version(spark, "silver")
    assert json.loads(run["config"])["split"]["seed"] == run["split_seed"] == cfg.split.seed
    assert run["config_hash"] == cfg.digest()
    assert run["spark_version"] == spark.version and run["speedrun_version"]
    assert run["started_at"] <= run["finished_at"]
    # AND MLflow holds the same run: params, lineage tags, validation and test metrics, the model, the report
    mlflow.set_tracking_uri(tracking_uri(cfg))
    tracked = mlflow.get_run(run["mlflow_run_id"])
    assert tracked.data.params["split.seed"] == str(cfg.split.seed)
    assert tracked.data.tags["speedrun.silver_version"] == "0"
    assert tracked.data.metrics["test_areaUnderROC"] == evaluation.report["metrics"]["areaUnderROC"]
    assert "validation_areaUnderROC" in tracked.data.metrics
    artifacts = {a.path for a in mlflow.MlflowClient().list_artifacts(run["mlflow_run_id"], "report")}
    assert {
        "report/report.html",
        "report/roc.png",
        "report/pr.png",
        "report/confusion.png",
        "report/scores.png",
        "report/features.png",
    } <= artifacts
    loaded = mlflow.spark.load_model(f"runs:/{run['mlflow_run_id']}/model")
    assert [type(stage).__name__ for stage in loaded.stages[-2:]] == ["LogisticRegressionModel", "DecidedClass"]
    assert classifier_of(loaded).numFeatures > 0


@pytest.mark.e2e
def test_replay_matches_after_the_source_was_appended_and_overwritten(spark, trained, tmp_path, make_config) -> None:
    # GIVEN a copy of a finished run's tables, whose source then changes: new rows appended and re-ingested,
    # then the source overwritten with other data and ingested and prepared again
    cfg, evaluation = trained
    shutil.copytree(cfg.storage.work_dir, tmp_path / "work")
    cfg = make_config(f"storage.work_dir={tmp_path / 'work'}")
    synthetic_churn(spark, 500, seed=99).write.mode("append").option("header", True).csv(
        cfg.storage.resolve(cfg.source.path)
    )
    alone(prepare, spark, cfg, versions={"bronze": alone(ingest, spark, cfg).version})
    synthetic_churn(spark, 700, seed=100).write.mode("overwrite").option("header", True).csv(
        cfg.storage.resolve(cfg.source.path)
    )
    alone(prepare, spark, cfg, versions={"bronze": alone(ingest, spark, cfg).version})
    alone(split, spark, cfg)
    assert Tables(cfg).read(spark, "silver").count() == 700
    # WHEN the run is replayed
    result = alone(replay, spark, cfg, evaluation.report["run_id"])
    # THEN it reads silver at the recorded version and every metric matches exactly
    assert result.differences == []
    assert result.replayed["areaUnderROC"] == evaluation.report["metrics"]["areaUnderROC"]


@pytest.mark.e2e
def test_replay_exits_non_zero_and_names_what_differs(spark, trained, tmp_path, overrides_for, capsys) -> None:
    # GIVEN a copy of a run whose recorded metrics were changed afterwards
    cfg, evaluation = trained
    shutil.copytree(cfg.storage.work_dir, tmp_path / "work")
    overrides = overrides_for(tmp_path / "work")
    cfg = load_config("default", overrides)
    metrics = DeltaTable.forPath(spark, Tables(cfg).location("metrics"))
    metrics.update(set={"metrics": F.regexp_replace("metrics", '"accuracy": [0-9.]+', '"accuracy": 0.5')})
    # WHEN it is replayed from the command line
    code = main(["replay", evaluation.report["run_id"], *[arg for o in overrides for arg in ("--set", o)]])
    # THEN it fails and names the metric, with both values
    assert code == 1
    assert "accuracy: recorded 0.5, replayed 0." in capsys.readouterr().err


@pytest.mark.e2e
@pytest.mark.server
@pytest.mark.usefixtures("mlflow_downloads")
def test_a_run_in_the_warm_server_equals_the_in_process_run_bit_for_bit(spark, trained, overrides_for, tmp_path):
    # GIVEN the shared run, made in this process (a one-shot spark-submit run equals it: test_standalone_cluster)
    import subprocess
    import sys

    def outcome(cfg, report: dict) -> tuple:
        membership = [sorted(r[0] for r in read_split(spark, cfg, n).select("customer_id").collect()) for n in SPLITS]
        mlflow.set_tracking_uri(tracking_uri(cfg))
        model = classifier_of(mlflow.spark.load_model(report["model"]["path"]))
        metrics = (report["metrics"], report["validation_metrics"], report["confusion_matrix"])
        return membership, model.coefficients.toArray().tobytes(), model.intercept, metrics

    cfg, shared = trained
    # WHEN the same config runs in the warm server, in another work folder
    args = [arg for o in overrides_for(tmp_path) for arg in ("--set", o)] + ["--run-id", "same"]
    done = subprocess.run([str(Path(sys.executable).parent / "speedrun"), "run", *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "warm in the speedrun server" in done.stderr
    until_the_server_is_idle()  # it answered with its metrics; the server has then logged its model
    # THEN the split, the model's coefficients and every metric are the same, bit for bit
    report = json.loads((tmp_path / "runs" / "churn" / "same" / "metrics.json").read_text())
    assert outcome(load_config("default", overrides_for(tmp_path)), report) == outcome(cfg, shared.report)
