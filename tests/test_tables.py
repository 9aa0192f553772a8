"""Tables: each write finds its own commit by the token it wrote, whatever other writers committed since; a
pipeline whose background write fails records nothing."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import mlflow
import pytest

from speedrun.config import load_config
from speedrun.edges.tables import Tables, conflict_error
from speedrun.edges.tracking import tracking_uri
from speedrun.errors import SpeedrunError
from speedrun.flow import run_pipeline


def test_a_write_finds_its_own_commit_after_someone_elses(spark, tmp_path: Path) -> None:
    # GIVEN a table written by speedrun, with lineage
    tables = Tables(load_config("default", [f"storage.work_dir={tmp_path}"]))
    first = tables.write(spark.range(4), "silver", lineage={"bronze": 7})
    token = tables.log(spark, "silver").entries(first.version)[0][1]
    # AND two commits by another writer after it (as Databricks' own OPTIMIZE of a managed table would make)
    spark.sql(f"OPTIMIZE delta.`{tables.location('silver')}`")
    spark.sql(f"ALTER TABLE delta.`{tables.location('silver')}` SET TBLPROPERTIES ('owner.team' = 'data')")
    # WHEN speedrun looks for the commit its write made
    found = tables.commit_of_write(spark, "silver", token)
    # THEN it is that commit, with its rows and lineage, not the latest one
    assert (found.version, found.rows, found.lineage) == (0, 4, {"bronze": 7})
    assert Tables(tables.cfg).log(spark, "silver").versions()[0] == 2
    assert tables.commit(spark, "silver", 2).lineage == {}
    # AND the table's version for the next step is speedrun's own last write, with its lineage
    assert (tables.version(spark, "silver"), tables.commit(spark, "silver").lineage) == (0, {"bronze": 7})


@pytest.mark.e2e
def test_a_run_whose_background_write_fails_records_and_registers_nothing(spark, tmp_path: Path) -> None:
    # GIVEN a run whose silver table cannot be written (a file stands where its folder would be)
    cfg = load_config(
        "default",
        [f"storage.work_dir={tmp_path}", "source.generate_if_missing.rows=300", "model={type: logistic_regression}"],
    )
    silver = Path(Tables(cfg).location("silver"))
    silver.parent.mkdir(parents=True)
    silver.write_text("not a table")
    # WHEN it runs THEN it fails on that write
    with pytest.raises(Exception, match="churn_silver"):
        run_pipeline(spark, cfg)
    # AND no run was recorded and no model version registered; bronze, written before, is a good version
    assert not Tables(cfg).exists(spark, "training_runs")
    store = tracking_uri(cfg)  # the registry too: not the one an earlier test of this process set for MLflow
    assert mlflow.MlflowClient(tracking_uri=store, registry_uri=store).search_registered_models() == []
    assert Tables(cfg).read(spark, "bronze").count() == 300


def test_no_step_reaches_into_the_jvm() -> None:
    # standard access mode, serverless and Spark Connect forbid `spark._jvm`: only the local session factory,
    # which never runs on Databricks, may use it
    src = Path(__file__).resolve().parents[1] / "src" / "speedrun"
    using = [
        p.name
        for p in src.rglob("*.py")
        if p.name != "session.py" and ("._jvm" in p.read_text() or "._jsc" in p.read_text())
    ]
    assert using == []


@pytest.mark.e2e
def test_writers_at_once_each_succeed_or_say_another_run_is_writing(spark, tmp_path: Path) -> None:
    # GIVEN four runs overwriting the same new table at the same moment (threads of one session)
    tables = Tables(load_config("default", [f"storage.work_dir={tmp_path}"]))
    with ThreadPoolExecutor(max_workers=4) as pool:
        attempts = [pool.submit(tables.write, spark.range(n * 10), "silver") for n in range(1, 5)]
    # THEN each either committed, or failed with the one line naming the table and the other writer
    outcomes = [a.exception() for a in attempts]
    for failure in filter(None, outcomes):
        assert isinstance(failure, SpeedrunError), repr(failure)
        assert str(failure).startswith(f"another run is writing {tables.location('silver')} (")
    assert any(o is None for o in outcomes)
    # AND the table holds one writer's rows whole, and the next write succeeds
    assert tables.read(spark, "silver").count() in (10, 20, 30, 40)
    assert tables.write(spark.range(5), "silver").rows == 5


def test_a_delta_conflict_is_one_line_and_other_failures_are_not_hidden() -> None:
    # GIVEN the errors Delta raises when another writer committed first, and an unrelated failure
    conflicts = [
        "io.delta.exceptions.ConcurrentAppendException: [DELTA_CONCURRENT_APPEND] Files were added ...",
        "io.delta.exceptions.MetadataChangedException: [DELTA_METADATA_CHANGED] The metadata ... was changed",
        "io.delta.exceptions.ProtocolChangedException: [DELTA_PROTOCOL_CHANGED] The protocol version ...",
    ]
    # THEN each conflict becomes the one line naming the table; the other failure is left as it is
    for text in conflicts:
        error = conflict_error("/w/churn_silver", RuntimeError(text))
        assert str(error).startswith("another run is writing /w/churn_silver (") and "last good version" in str(error)
    assert conflict_error("/w/churn_silver", RuntimeError("java.io.IOException: No space left on device")) is None


def test_names_delta_refuses_get_column_mapping_even_on_a_table_made_without(spark, tmp_path: Path) -> None:
    # GIVEN a table written with plain column names
    tables = Tables(load_config("default", [f"storage.work_dir={tmp_path}"]))
    tables.write(spark.createDataFrame([(1, "a")], "id int, plan string"), "bronze")
    # WHEN rows whose names hold a space, parentheses and an equals sign overwrite it
    awkward = spark.createDataFrame([(2, "b", 3.5)], "`customer id` int, `plan (name)` string, `fee=monthly` double")
    commit = tables.write(awkward, "bronze")
    # THEN the table holds them under those names, at the version that write made
    back = tables.read(spark, "bronze", commit.version)
    assert back.columns == ["customer id", "plan (name)", "fee=monthly"]
    assert [tuple(r) for r in back.collect()] == [(2, "b", 3.5)]


def test_a_table_role_that_does_not_exist_is_an_error_naming_the_roles(make_config) -> None:
    # GIVEN the tables of a dataset, WHEN a role is misspelt THEN the error names it and the roles there are
    tables = Tables(make_config())
    with pytest.raises(ValueError, match=r"no table role 'silvr': the roles are bronze, silver, quarantine, "):
        tables.location("silvr")
