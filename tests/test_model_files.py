"""A fitted pipeline saved in Spark ML's layout with fewer Spark jobs: the preprocessing saved before in this
process copied, a Python stage's metadata written as a file; loaded back as Spark ML would save it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.classification import LogisticRegression
from pyspark.ml.feature import StringIndexer, StringIndexerModel, VectorAssembler
from pyspark.sql import types as T

from speedrun.edges.model_files import (
    SavedStages,
    local_folder,
    moved_from_staging,
    remove_left_behind,
    with_kept_stages,
)
from speedrun.edges.session import spark_jobs_counter
from speedrun.transforms.decided_class import decided_class

SCHEMA = T.StructType([T.StructField("x", T.DoubleType()), T.StructField("c", T.StringType())])
ROWS = [(float(i), "ab"[i % 2]) for i in range(12)]


@pytest.fixture(scope="module")
def two_fits(spark):
    """Two pipelines sharing their fitted preprocessing (as the loop's refit does), each ending in its decision
    stage: (first, second, rows)."""
    rows = spark.createDataFrame(ROWS, SCHEMA)
    preprocessing = Pipeline(
        stages=[StringIndexer(inputCol="c", outputCol="label"), VectorAssembler(inputCols=["x"], outputCol="f")]
    ).fit(rows)
    prepared = preprocessing.transform(rows)
    made = []
    for reg in (0.0, 0.5):
        classifier = LogisticRegression(featuresCol="f", maxIter=2, regParam=reg).fit(prepared)
        decision = decided_class(["a", "b"], 0.5, ("prediction", "probability"))
        made.append(PipelineModel(stages=[*preprocessing.stages, classifier, decision]))
    return made[0], made[1], rows


def predictions(model: PipelineModel, rows) -> list:
    return [tuple(r) for r in model.transform(rows).select("x", "prediction", "probability").collect()]


def test_the_second_save_copies_the_preprocessing_and_loads_as_a_plain_save_does(spark, two_fits, tmp_path: Path):
    # GIVEN two pipelines sharing their preprocessing, the first saved once with its stages kept
    first, second, rows = two_fits
    jobs = spark_jobs_counter(spark)
    with_kept_stages(first, kept=2).write().save(str(tmp_path / "first"))
    plain_before = jobs()
    PipelineModel(stages=second.stages).write().save(str(tmp_path / "plain"))
    plain_jobs = jobs() - plain_before
    # WHEN the second is saved the same way
    before = jobs()
    model = with_kept_stages(second, kept=2)
    model.write().save(str(tmp_path / "second"))
    # THEN only the classifier was written by Spark jobs (its metadata and its data)
    assert jobs() - before == 2 < plain_jobs
    # AND the folder holds the stages Spark ML's own save makes, loaded back predicting as the model in hand
    stage_folders = sorted(p.name for p in (tmp_path / "second" / "stages").iterdir())
    assert stage_folders == sorted(p.name for p in (tmp_path / "plain" / "stages").iterdir())
    loaded = PipelineModel.load(str(tmp_path / "second"))
    assert type(loaded) is PipelineModel and loaded.uid == second.uid
    assert predictions(loaded, rows) == predictions(second, rows)


def test_a_stage_whose_settings_changed_since_its_save_is_written_again(spark, two_fits, tmp_path: Path):
    # GIVEN a stage saved once with its folder kept
    first, _, _ = two_fits
    saved, stage = SavedStages(), first.stages[0]
    stage.write().save(str(tmp_path / "once"))
    saved.keep(stage, tmp_path / "once")
    # WHEN its settings change
    stage.setHandleInvalid("keep")
    try:
        # THEN its kept folder is not used
        assert not saved.saved(stage, tmp_path / "again")
        assert not (tmp_path / "again").exists()
    finally:
        stage.setHandleInvalid("error")
    # AND with the settings it was saved with, it is
    assert saved.saved(stage, tmp_path / "again")
    assert StringIndexerModel.load(str(tmp_path / "again")).labels == stage.labels


def test_only_folders_on_this_machine_are_written_as_files(monkeypatch):
    # GIVEN a local session's master
    local = "local[2]"
    # WHEN paths of each kind are looked at
    # THEN a local path or a file: URI is a folder here; another scheme's, a cluster's, or one a Hadoop
    # configuration may send elsewhere, is left to Spark ML's writers
    assert local_folder("/tmp/m", local) == Path("/tmp/m")
    assert local_folder("file:///tmp/m", local) == Path("/tmp/m")
    assert local_folder("dbfs:/tmp/m", local) is None
    assert local_folder("s3://bucket/m", local) is None
    assert local_folder("/tmp/m", "spark://host:7077") is None
    monkeypatch.setenv("HADOOP_CONF_DIR", "/etc/hadoop")
    assert local_folder("/tmp/m", local) is None
    assert local_folder("file:///tmp/m", local) == Path("/tmp/m")


def test_on_databricks_the_model_is_saved_by_its_own_writer(monkeypatch, two_fits):
    # GIVEN a run on Databricks
    monkeypatch.setenv("DATABRICKS_RUNTIME_VERSION", "17.3")
    first, _, _ = two_fits
    # WHEN its model is made ready for saving THEN it is the model as it is
    assert with_kept_stages(first, kept=2) is first


def test_kept_folders_of_processes_that_ended_are_removed_and_a_running_ones_kept(tmp_path: Path):
    # GIVEN the kept-stage folders of a process that no longer runs (a killed server: a pid above the system's
    # largest) and of one that runs (this test's parent)
    gone = tmp_path / f"speedrun-stages-{10**8}-abc"
    running = tmp_path / f"speedrun-stages-{os.getppid()}-def"
    gone.mkdir()
    running.mkdir()
    # WHEN a process keeps its first stage folder there
    remove_left_behind(tmp_path)
    # THEN the ended one's folder is gone, the running one's kept
    assert not gone.exists() and running.is_dir()


def test_a_cleared_store_removes_its_folders(spark, two_fits, tmp_path: Path):
    # GIVEN a store holding a stage's folder
    first, _, _ = two_fits
    saved, stage = SavedStages(), first.stages[1]
    stage.write().save(str(tmp_path / "once"))
    saved.keep(stage, tmp_path / "once")
    root = saved.root
    # WHEN it is cleared (the server's stop)
    saved.clear()
    # THEN its folders are gone, and the stage is saved anew next time
    assert not root.exists()
    assert not saved.saved(stage, tmp_path / "again")


def test_fits_of_one_estimator_are_kept_apart_though_they_share_its_uid(spark, tmp_path: Path):
    # GIVEN a store that keeps one folder, and three fits of one indexer (each with the estimator's uid)
    rows = spark.createDataFrame(ROWS, SCHEMA)
    indexer, saved = StringIndexer(inputCol="c", outputCol="label"), SavedStages(entries=1)
    fits = [indexer.fit(rows) for _ in range(3)]
    # WHEN each is saved and kept in turn, the oldest let go each time
    for i, fitted in enumerate(fits):
        fitted.write().save(str(tmp_path / f"saved{i}"))
        saved.keep(fitted, tmp_path / f"saved{i}")
    try:
        # THEN the last one's folder is the one kept, and the others are not
        assert saved.saved(fits[2], tmp_path / "again")
        assert not saved.saved(fits[0], tmp_path / "other")
    finally:
        saved.clear()


def staged(folder: Path) -> int:
    """A staged model folder as Spark's writer leaves it (one data file); that file's inode."""
    (folder / "stages").mkdir(parents=True)
    (folder / "stages" / "part-00000").write_text("x")
    return (folder / "stages" / "part-00000").stat().st_ino


def test_a_model_staged_on_this_machine_is_moved_into_the_logged_folder_not_copied(spark, tmp_path: Path) -> None:
    # GIVEN a model staged in a folder of this machine, as MLflow's Spark flavour stages it
    import mlflow.spark

    inode = staged(tmp_path / "staging" / "m1")
    own = vars(mlflow.spark._HadoopFileSystem)["copy_to_local_file"]
    # WHEN MLflow copies it into the logged model's folder, inside `moved_from_staging` of a local session
    with moved_from_staging("local[2]"):
        mlflow.spark._HadoopFileSystem.copy_to_local_file(
            str(tmp_path / "staging" / "m1"), str(tmp_path / "logged" / "sparkml"), True
        )
    # THEN the logged folder holds the very file (moved, one rename), nothing is left staged, MLflow's copy is back
    assert (tmp_path / "logged" / "sparkml" / "stages" / "part-00000").stat().st_ino == inode
    assert not (tmp_path / "staging" / "m1").exists()
    assert vars(mlflow.spark._HadoopFileSystem)["copy_to_local_file"] is own


def test_a_model_staged_for_a_cluster_is_copied_by_mlflow_as_before(spark, tmp_path: Path) -> None:
    # GIVEN a model staged by a session on a cluster master
    import mlflow.spark

    inode = staged(tmp_path / "staging" / "m2")
    # WHEN MLflow copies it into the logged model's folder
    with moved_from_staging("spark://127.0.0.1:7077"):
        mlflow.spark._HadoopFileSystem.copy_to_local_file(
            str(tmp_path / "staging" / "m2"), str(tmp_path / "logged" / "sparkml"), True
        )
    # THEN it went through Hadoop's FileSystem: a copy of the file, the staged folder deleted
    copied = tmp_path / "logged" / "sparkml" / "stages" / "part-00000"
    assert copied.read_text() == "x" and copied.stat().st_ino != inode
    assert not (tmp_path / "staging" / "m2").exists()
