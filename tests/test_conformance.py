"""The conformance suite: each row of `conformance.py` run through the command line's own entry, as a user runs
the commands (in the tests' Spark session; a few rows also as real processes), and its outcome held against the
row's. An input kind is what `speedrun ingest` then `speedrun prepare` make of it (the training job's first two
tasks; a few rows through the whole `speedrun run`); a batch, what `speedrun score` makes of it. A speed-up that
changes a row's outcome fails here, not in a user's job."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from conformance import BATCHES, READING, SCORED, SCORED_CSV, Batch, Case, csv, rows, text
from pyspark.sql import functions as F

from speedrun.cli import main
from speedrun.config import load_config
from speedrun.edges.tables import Tables
from speedrun.edges.tracking import tracking_uri
from speedrun.transforms.contract import contract_of

pytestmark = pytest.mark.e2e

QUICK = ("model={type: logistic_regression, max_iter: 5}",)


def settings_of(work: Path, *more: str) -> list[str]:
    return [
        f"storage.work_dir={work}",
        "source.path=raw",
        "source.generate_if_missing=null",
        "columns={id: null, label: {column: y}}",
        *QUICK,
        "tracking.enabled=false",
        *more,
    ]


def put(folder: Path, files: dict[str, bytes]) -> None:
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)


def set_args(settings: list[str]) -> list[str]:
    return [a for s in settings for a in ("--set", s)]


def speedrun(command: str, settings: list[str], *args: str) -> list[str]:
    return [command, *set_args(settings), *args]


def error_line(err: str) -> str:
    """The command's one error line (after its progress lines)."""
    lines = [line for line in err.splitlines() if line.startswith("speedrun ") and ": error: " in line]
    assert len(lines) == 1, err
    return lines[0]


def read_and_cleaned(args: list[str], commands: tuple[str, ...] = ("ingest", "prepare")) -> int:
    """The exit code of `commands` run with `args` one after the other, as a job's tasks are: the first that
    fails ends it."""
    for command in commands:
        code = main([command, *args])
        if code:
            return code
    return 0


WHOLE_RUN = ("csv with a header", "a given test file")  # also split, trained and evaluated


def held(spark, case: Case, settings: list[str], code: int, err: str) -> None:
    """The outcome of `case`'s run, against its row."""
    assert code == case.code, err
    if case.code:
        assert re.search(case.said, error_line(err)), error_line(err)
        return
    tables = Tables(load_config("default", settings))
    bronze, silver, quarantine = (tables.read(spark, role) for role in ("bronze", "silver", "quarantine"))
    counts = (bronze.count(), silver.count(), quarantine.count())
    assert counts == (case.read, case.read - case.quarantined, case.quarantined)
    if case.reason is not None:
        assert case.reason in {r[0] for r in quarantine.select("_reject_reason").collect()}
    if case.test_rows is not None:
        assert (
            tables.read(spark, "silver_test").count() + tables.read(spark, "quarantine_test").count() == case.test_rows
        )
    if case.standard:  # every value in its own column: `x` says what `c` and the label are
        classes = contract_of(silver).classes  # in class-index order, as the config gave or prepare inferred
        label = F.when(F.col("x") % 2 == 1, classes.index("yes")).otherwise(classes.index("no"))
        wrong = silver.where(
            (F.col("c") != F.concat(F.lit("c"), (F.col("x") % 3).cast("int"))) | (F.col("_label") != label)
        )
        assert wrong.count() == 0, wrong.limit(5).collect()


@pytest.mark.parametrize("case", READING, ids=[c.name for c in READING])
def test_input_kind(spark, tmp_path: Path, case: Case, capsys) -> None:
    # GIVEN the case's files and config
    put(tmp_path / "raw", case.files)
    settings = settings_of(tmp_path, *case.settings)
    # WHEN `speedrun ingest` and `speedrun prepare` read and clean them (or `speedrun run` does it all)
    code = read_and_cleaned(set_args(settings), ("run",) if case.name in WHOLE_RUN else ("ingest", "prepare"))
    # THEN it ends as the case's row says
    held(spark, case, settings, code, capsys.readouterr().err)


INIT_ROWS = [
    c
    for c in READING
    if c.name
    in ("semicolon delimiter", "json lines with broken records", "lines with too many fields are quarantined whole")
]


@pytest.mark.parametrize("case", INIT_ROWS, ids=[c.name for c in INIT_ROWS])
def test_input_kind_from_the_config_init_writes(spark, tmp_path: Path, case: Case, capsys) -> None:
    # GIVEN the case's file, and the config `speedrun init` writes for it (its own guesses, not the case's settings)
    put(tmp_path / "raw", case.files)
    (data,) = case.files
    assert main(["init", str(tmp_path / "raw" / data), "--label", "y", "--output", str(tmp_path / "cfg.yml")]) == 0
    settings = [f"storage.work_dir={tmp_path}", *QUICK, "tracking.enabled=false"]
    # WHEN `speedrun ingest` and `speedrun prepare` read and clean it with that config as it is
    code = read_and_cleaned(["--config", str(tmp_path / "cfg.yml"), *set_args(settings)])
    # THEN it ends as the case's row says, its tables named after the file
    err = capsys.readouterr().err
    held(
        spark,
        case,
        ["name=d", f"storage.work_dir={tmp_path}", "source.path=raw", "columns={id: null, label: {column: y}}"],
        code,
        err,
    )


PROCESS_ROWS = [c for c in READING if c.name in ("a missing file",)]


@pytest.mark.parametrize("case", PROCESS_ROWS, ids=[c.name for c in PROCESS_ROWS])
def test_input_kind_as_a_process(spark, tmp_path: Path, case: Case) -> None:
    # GIVEN the case's files and config WHEN `speedrun run` runs as its own process (its own JVM)
    put(tmp_path / "raw", case.files)
    settings = settings_of(tmp_path, *case.settings)
    done = subprocess.run(
        [str(Path(sys.executable).parent / "speedrun"), "--no-server", *speedrun("run", settings)],
        capture_output=True,
        text=True,
    )
    # THEN it ends as the case's row says, as it does in the tests' session
    held(spark, case, settings, done.returncode, done.stderr)


@pytest.fixture(scope="session")
def champion(spark, tmp_path_factory):
    """A model trained on 400 rows with an id, validated and promoted, then a plain batch scored: its settings
    and the plain batch's predictions, by id."""
    work = tmp_path_factory.mktemp("scoring")
    put(
        work / "raw",
        {"train.csv": text(csv([(f"t{x}", x, c, y) for x, c, y in rows(400)], "customer id,age (years),plan.name,y"))},
    )
    settings = settings_of(work, "columns={id: 'customer id', label: {column: y}}", "tracking.enabled=true")
    settings += ["validation.thresholds={areaUnderROC: 0.0}"]
    for command in ("run", "validate", "promote"):
        assert main(speedrun(command, settings)) == 0
    put(work / "batches" / "plain", {"b.csv": text(SCORED_CSV)})
    assert main(speedrun("score", settings, "--input", str(work / "batches" / "plain"), "--batch-id", "plain")) == 0
    return settings, predicted(spark, settings, "plain")


def predicted(spark, settings: list[str], batch: str) -> dict[str, tuple]:
    rows = Tables(load_config("default", settings)).read(spark, "predictions").where(F.col("batch_id") == batch)
    return {r[ID]: (r["predicted_class"], r["probabilities"]) for r in rows.collect()}


ID = "customer id"
QUARANTINE_COLUMNS = [
    "_row_key", ID, "age (years)", "plan.name", "_corrupt_record", "_source_file", "_reject_reason", "batch_id"
]  # fmt: skip


@pytest.mark.xdist_group("conformance-scoring")
@pytest.mark.parametrize("batch", BATCHES, ids=[b.name for b in BATCHES])
def test_scoring_batch(spark, champion, tmp_path: Path, batch: Batch, capsys) -> None:
    settings, plain = champion
    slug = re.sub(r"[^a-z0-9]+", "-", batch.name)
    # GIVEN the batch's files WHEN `speedrun score` scores them
    put(tmp_path / slug, batch.files)
    capsys.readouterr()
    code = main(speedrun("score", settings, "--input", str(tmp_path / slug), "--batch-id", slug, *batch.options))
    err = capsys.readouterr().err
    # THEN it ends as the row says: its code, its line, the rows scored and quarantined
    assert code == batch.code, err
    if batch.said is not None:
        assert re.search(batch.said, error_line(err) if code else err), err
    tables = Tables(load_config("default", settings))
    if code == 0 or batch.scored:
        assert len(predicted(spark, settings, slug)) == batch.scored
        refused = tables.read(spark, "scoring_quarantine").where(F.col("batch_id") == slug)
        assert refused.count() == batch.quarantined
    # AND the tables keep one schema, whatever the batch's columns
    assert tables.read(spark, "scoring_quarantine").columns == QUARANTINE_COLUMNS
    assert tables.read(spark, "predictions").columns == [
        "_row_key", ID, "predicted_class", "probabilities", "model_name", "model_version", "scored_at", "batch_id"
    ]  # fmt: skip
    # AND each row is predicted as in the plain batch
    if batch.same:
        found = predicted(spark, settings, slug)
        assert found == {key: plain[key] for key in found}


@pytest.mark.xdist_group("conformance-scoring")
def test_a_drifted_batch_fails_the_job_once_in_its_drift_task(spark, champion, tmp_path: Path, capsys) -> None:
    # GIVEN a drifted batch, as the scoring job's tasks score it: `score --no-drift-verdict` (retried), then `drift`
    settings, _ = champion
    put(
        tmp_path / "b",
        {"b.csv": text(csv([(f"r{x}", x + 5000, c) for x, c, _ in SCORED], "customer id,age (years),plan.name"))},
    )
    scored = main(speedrun("score", settings, "--input", str(tmp_path / "b"), "--batch-id", "d1", "--no-drift-verdict"))
    # WHEN the drift task gives its verdict
    verdict = main(speedrun("drift", settings, "--batch-id", "d1"))
    # THEN scoring succeeded with its rows written, and the verdict fails once, naming the feature
    assert (scored, verdict, len(predicted(spark, settings, "d1"))) == (0, 2, 300)
    assert re.search(r"above scoring\.drift\.fail = 0\.25: age \(years\) \(PSI \d", error_line(capsys.readouterr().err))
    # AND a calm batch's verdict passes
    assert main(speedrun("drift", settings, "--batch-id", "plain")) == 0


@pytest.mark.xdist_group("conformance-scoring")
@pytest.mark.usefixtures("mlflow_downloads")
def test_the_registered_model_predicts_the_same_through_mlflows_own_clients(spark, champion, tmp_path: Path) -> None:
    # GIVEN the champion, and a batch as pandas reads the raw file (integers as int64, extra columns)
    settings, plain = champion
    cfg = load_config("default", settings)
    put(
        tmp_path,
        {"b.csv": text(csv([(f"r{x}", x, c, "n") for x, c, _ in SCORED], "customer id,age (years),plan.name,note"))},
    )
    batch = pd.read_csv(tmp_path / "b.csv")
    mlflow.set_tracking_uri(tracking_uri(cfg))
    uri = "models:/churn_classifier@champion"
    # WHEN mlflow.pyfunc predicts on it, and mlflow.pyfunc.spark_udf scores it in Spark
    by_pyfunc = list(mlflow.pyfunc.load_model(uri).predict(batch))
    udf = mlflow.pyfunc.spark_udf(spark, uri, env_manager="local")
    table = spark.createDataFrame(batch)
    inputs = F.struct(*[F.col(f"`{name}`") for name in table.columns])
    by_udf = {r[ID]: r["p"] for r in table.select(F.col(f"`{ID}`"), udf(inputs).alias("p")).collect()}
    # THEN both predict each row's class as `speedrun score` did
    assert by_pyfunc == [plain[key][0] for key in batch[ID]]
    assert by_udf == {key: plain[key][0] for key in batch[ID]}


@pytest.mark.xdist_group("conformance-scoring")
def test_a_batch_with_one_more_column_scores_as_a_process(spark, champion, tmp_path: Path) -> None:
    # GIVEN a batch with a `note` column WHEN `speedrun score` runs as its own process
    settings, plain = champion
    put(
        tmp_path / "b",
        {"b.csv": text(csv([(f"r{x}", x, c, "n") for x, c, _ in SCORED], "customer id,age (years),plan.name,note"))},
    )
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "speedrun"),
            "--no-server",
            *speedrun("score", settings, "--input", str(tmp_path / "b"), "--batch-id", "process"),
        ],
        capture_output=True,
        text=True,
    )
    # THEN every row is scored as in the tests' session
    assert done.returncode == 0, done.stderr
    assert predicted(spark, settings, "process") == plain


@pytest.mark.xdist_group("conformance-scoring")
def test_batches_are_scored_as_they_arrive_once_each_and_a_drifted_one_fails_once(
    spark, champion, tmp_path: Path, capsys
) -> None:
    # GIVEN a scoring folder where two batches arrived, each in a folder named after it
    settings, plain = champion
    drifted = csv([(f"r{x}", x + 5000, c) for x, c, _ in SCORED], "customer id,age (years),plan.name")
    put(tmp_path / "in", {"day-1/a.csv": text(SCORED_CSV), "day-2/b.csv": text(SCORED_CSV)})
    arrived = speedrun("score", settings, "--input", str(tmp_path / "in"), "--arrived", "--no-drift-verdict")
    # WHEN the scoring job's tasks run: score what arrived, then give the drift verdict
    assert main(arrived) == 0 and main(speedrun("drift", settings, "--arrived")) == 0
    # THEN each batch is scored under its folder's name, as the plain batch is
    assert predicted(spark, settings, "day-1") == plain and predicted(spark, settings, "day-2") == plain
    # AND a rerun over the same files scores nothing, and says so
    capsys.readouterr()
    assert main(arrived) == 0
    assert "no new batch in" in capsys.readouterr().err
    # AND a drifted batch that arrives, and a file added to day-2, are scored (day-2's rows replaced, not doubled)
    more = csv([(f"s{x}", x, c) for x, c, _ in SCORED], "customer id,age (years),plan.name")
    put(tmp_path / "in", {"day-3/c.csv": text(drifted), "day-2/more.csv": text(more)})
    assert main(arrived) == 0
    assert len(predicted(spark, settings, "day-2")) == 2 * len(plain) and predicted(spark, settings, "day-3")
    # AND the verdict fails once, naming the drifted batch only; judged, it does not fail the next run again
    assert main(speedrun("drift", settings, "--arrived")) == 2
    line = error_line(capsys.readouterr().err)
    assert "batch day-3: scored batch drifted" in line and "day-2" not in line, line
    assert main(speedrun("drift", settings, "--arrived")) == 0
    # AND a file outside a batch folder is one line naming it
    put(tmp_path / "in", {"loose.csv": text(SCORED_CSV)})
    assert main(arrived) == 2
    assert "holds loose.csv outside a batch folder" in error_line(capsys.readouterr().err)
