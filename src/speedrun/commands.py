"""The `speedrun` steps in one table: each one's help, its own options, and what it does with its Spark session
and config (the options every step shares are declared once, in `cli.parser`). Each step's work is imported when
it runs, so that `speedrun --help` and a config error need no Spark."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from speedrun.config.search import seconds
from speedrun.errors import SpeedrunError
from speedrun.progress import step

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from speedrun.config import Config
    from speedrun.context import RunContext

Session = Callable[[], "SparkSession"]  # the step's Spark session, started (or reached) when first asked for
Does = Callable[[argparse.Namespace, Session, "Config | None"], None]


class ReplayMismatch(SpeedrunError):
    """A replay whose outcome differs from the recorded one (exit code 1)."""


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


def context(args: argparse.Namespace, session: Session, cfg: Config) -> RunContext:
    """The run context of a command: `run` and `tune` write in the background and may reuse an up-to-date
    silver (unless --fresh); every other step commits as it goes."""
    from speedrun.context import RunContext, RunOptions  # Spark's modules: not before a step runs

    whole_run = args.step in ("run", "tune")
    options = RunOptions(
        run_id=getattr(args, "run_id", None),
        metrics_out=getattr(args, "metrics_out", None),
        tune=args.step == "tune",
        budget=duration(args.budget) if getattr(args, "budget", None) else None,
        reuse_silver=whole_run and not args.fresh,
        target=getattr(args, "bundle_target", None),
        git_commit=getattr(args, "git_commit", None),
    )
    return RunContext(session(), cfg, options, background=whole_run)


def step_of(module: str, function: str | None = None) -> Does:
    """A step that takes the run context only: `speedrun.steps.<module>.<function>(ctx)`."""

    def does(args: argparse.Namespace, session: Session, cfg: Config) -> None:
        import importlib

        each = getattr(importlib.import_module(f"speedrun.steps.{module}"), function or module)
        with context(args, session, cfg) as ctx:
            each(ctx)

    return does


def write_config(args: argparse.Namespace, session: Session, cfg: Config | None) -> None:
    from speedrun.steps.init import init

    init(args.data, args.label, args.output)


def generate_data(args: argparse.Namespace, session: Session, cfg: Config | None) -> None:
    from speedrun.edges.raw import generate

    output = str(Path(args.output).absolute())  # from this folder: Spark would take the JVM's
    shift = dict(shifted(assignment) for assignment in args.shift or [])
    if args.positive_share is not None and not 0 < args.positive_share < 1:
        raise SpeedrunError(f"--positive-share {args.positive_share}: give a share between 0 and 1, e.g. 0.05")
    with step("generate") as progress:
        generate(session(), args.rows, args.seed, output, args.positive_share, shift)
        progress.done(f"{args.rows:,} rows -> {output}")


def shifted(assignment: str) -> tuple[str, float]:
    """`--shift monthly_charges=20` -> ("monthly_charges", 20.0)."""
    name, _, amount = assignment.partition("=")
    try:
        return name.strip(), float(amount)
    except ValueError:
        raise SpeedrunError(f"--shift {assignment}: write COLUMN=AMOUNT, e.g. monthly_charges=20") from None


def run_steps(args: argparse.Namespace, session: Session, cfg: Config) -> None:
    from speedrun.flow import print_summary, run

    with context(args, session, cfg) as ctx:
        evaluation = run(ctx)
    print_summary(evaluation)


def evaluate_and_summarize(args: argparse.Namespace, session: Session, cfg: Config) -> None:
    from speedrun.flow import print_summary
    from speedrun.steps.evaluate import evaluate

    with context(args, session, cfg) as ctx:
        evaluation = evaluate(ctx)
    print_summary(evaluation)


def replay_and_compare(args: argparse.Namespace, session: Session, cfg: Config) -> None:
    from speedrun.steps.replay import replay

    with context(args, session, cfg) as ctx:
        result = replay(ctx, args.run_id)
    if result.differences:
        raise ReplayMismatch(f"replay of run {args.run_id} differs: " + "; ".join(result.differences))
    print(f"replay of run {args.run_id}: metrics, confusion matrix and row counts match exactly")


def promote_version(args: argparse.Namespace, session: Session, cfg: Config) -> None:
    from speedrun.steps.lifecycle import promote

    with context(args, lambda: None, cfg) as ctx:  # the registry only: no Spark
        promote(ctx, args.version)


def score_batch(args: argparse.Namespace, session: Session, cfg: Config) -> None:
    from speedrun.steps.score import score

    with context(args, session, cfg) as ctx:
        score(ctx, args.input, args.batch_id, args.version, verdict=not args.no_drift_verdict)


def drift_verdict(args: argparse.Namespace, session: Session, cfg: Config) -> None:
    from speedrun.steps.drift import drift

    with context(args, session, cfg) as ctx:
        drift(ctx, args.batch_id)


def duration(text: str) -> float:
    try:
        return seconds(text)
    except ValueError as exc:
        raise SpeedrunError(f"--budget: {exc}") from None


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
        step_of("train"),
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
        "check a run's model version; set alias challenger if it passes",
        step_of("lifecycle", "validate"),
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
                "--no-drift-verdict",
                action="store_true",
                help="keep the batch's drift without failing on it (the scoring job's `drift` task gives the verdict)",
            ),
        ),
    ),
    "drift": Command(
        "fail when a scored batch drifted above scoring.drift.fail (the scoring job's last task)",
        drift_verdict,
        (option("--batch-id", required=True, help="the scored batch"),),
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
