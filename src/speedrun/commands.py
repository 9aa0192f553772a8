"""The `speedrun` steps in one table: each one's help, its own options, and what it does (`actions`); the options
every step shares are declared once, in `cli.parser`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from speedrun.actions import (
    Does,
    drift_verdict,
    evaluate_and_summarize,
    generate_data,
    promote_version,
    replay_and_compare,
    run_steps,
    score_batch,
    step_of,
    train_alone,
    validate_version,
    write_config,
)

Option = tuple[tuple[str, ...], dict[str, Any]]  # an argument's flags and `add_argument` settings


def option(*flags: str, **settings: Any) -> Option:
    return flags, settings


@dataclass(frozen=True)
class Command:
    help: str
    does: Does | None  # None: `speedrun server`, handled by the command line itself (it starts no Spark)
    options: tuple[Option, ...] = ()
    configured: bool = True  # takes --config, --set and --run-id
    run_id: str | None = "accepted so that a job's tasks share their arguments; this step names no run"
    tracked: bool = False  # opens MLflow's store in the background while the JVM starts


METRICS_OUT = option("--metrics-out", help="where to write the metrics JSON (default: in the run's folder)")
FRESH = option("--fresh", action="store_true", help="read the raw files again even when silver is up to date")
BUDGET = option("--budget", help="no candidate starts after this long, e.g. 90s or 5m (search.budget)")
NEW_RUN = "name the run (default: time + random suffix)"
COMMANDS: dict[str, Command] = {
    "ingest": Command("raw files -> bronze Delta table", step_of("ingest")),
    "prepare": Command("bronze -> silver (clean) and quarantine tables", step_of("prepare")),
    "split": Command("silver -> seeded train / validation / test tables", step_of("split")),
    "train": Command(
        "fit the ML pipeline on the train table; record the run",
        train_alone,
        run_id="name the run (default: time + random suffix); a rerun replaces it",
        tracked=True,
    ),
    "evaluate": Command(
        "score the test table; write the metrics table and JSON",
        evaluate_and_summarize,
        (METRICS_OUT,),
        run_id="the training run to evaluate (default: the latest)",
        tracked=True,
    ),
    "run": Command(
        "ingest, prepare, split, train and evaluate in one Spark session",
        run_steps,
        (METRICS_OUT, FRESH),
        run_id=NEW_RUN,
        tracked=True,
    ),
    "tune": Command(
        "run, trying the search's candidates (or the default search): the best on validation is kept",
        run_steps,
        (METRICS_OUT, FRESH, BUDGET),
        run_id=NEW_RUN,
        tracked=True,
    ),
    "validate": Command(
        "check a run's model version (or --version); set alias challenger if it passes",
        validate_version,
        (option("--version", help="a version number or alias, e.g. candidate (default: the run's version)"),),
        run_id="the training run to validate (default: the latest)",
    ),
    "promote": Command(
        "move alias champion to the challenger (or --version)",
        promote_version,
        (option("--version", help="the model version to promote (default: the challenger)"),),
    ),
    "score": Command(
        "score new data with the champion (or --version) into predictions",
        score_batch,
        (
            option("--input", help="files to score, from where you are (default: scoring.path)"),
            option("--batch-id", help="the batch's id; scoring it again replaces its rows (default: the input path)"),
            option("--version", help="the model version (default: the champion)"),
            option(
                "--arrived",
                action="store_true",
                help="score each batch folder under --input that is new or changed, as the batch named after it",
            ),
            option(
                "--no-drift-verdict",
                action="store_true",
                help="keep the batch's drift without failing on it (the scoring job's `drift` task gives the verdict)",
            ),
        ),
    ),
    "drift": Command(
        "fail when a scored batch drifted above scoring.drift.fail (the scoring job's last task)",
        drift_verdict,
        (
            option("--batch-id", help="the scored batch"),
            option("--arrived", action="store_true", help="every batch `score --arrived` scored since its verdict"),
        ),
    ),
    "replay": Command(
        "re-run split, train and evaluate of a run from its recorded versions",
        replay_and_compare,
        (option("run_id", help="the training run to replay"),),
        run_id=None,
        tracked=True,
    ),
    "init": Command(
        "write a first config for a data file, from a sample of it",
        write_config,
        (
            option("data", help="the data: a CSV, Parquet or JSON-lines file, folder or glob"),
            option("--label", required=True, help="the label column: a name, a 1-based column number, or last"),
            option("--output", help="the config file to write (default: <data file name>.yml here)"),
        ),
        configured=False,
    ),
    "generate": Command(
        "write a deterministic synthetic dataset as CSV files",
        generate_data,
        (
            option("--rows", type=int, default=20_000),
            option("--seed", type=int, default=7),
            option("--output", required=True, help="output folder"),
            option("--positive-share", type=float, help="about this share of rows churn, e.g. 0.05 (default ~0.27)"),
            option("--shift", action="append", help="COLUMN=AMOUNT: a numeric column moved (a drifted batch)"),
        ),
        configured=False,
    ),
    "server": Command(
        "the local server that keeps Spark warm between commands",
        None,
        (option("action", choices=("status", "stop"), help="status: whether one runs; stop: stop it"),),
        configured=False,
    ),
}
STEPS = tuple(name for name in COMMANDS if name != "server")  # each has an entry point and a job script
