"""What each `speedrun` command does with its Spark session and config (`commands.COMMANDS` names each one's
help and options). Each step's work is imported when it runs, so that `speedrun --help` and a config error need
no Spark."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from speedrun.answer import answer_early
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


def train_alone(args: argparse.Namespace, session: Session, cfg: Config) -> None:
    from speedrun.edges.session import runs_here
    from speedrun.steps.train import train

    with context(args, session, cfg) as ctx:
        # a model this compute cannot train or keep: one line, before any work
        runs_here(cfg, ctx.tuning)
        train(ctx)


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
    """The run's steps, then its summary: in the warm server, as soon as the steps are done (the server then
    finishes the model's save and the records, `answer`); else once every write has ended."""
    from speedrun.flow import print_summary, run

    with context(args, session, cfg) as ctx:
        evaluation = run(ctx)
        if answer_early(ctx.writes.running(), partial(print_summary, evaluation)):
            return
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


def validate_version(args: argparse.Namespace, session: Session, cfg: Config) -> None:
    from speedrun.steps.lifecycle import validate

    with context(args, session, cfg) as ctx:
        validate(ctx, args.version)


def promote_version(args: argparse.Namespace, session: Session, cfg: Config) -> None:
    from speedrun.steps.lifecycle import promote

    with context(args, lambda: None, cfg) as ctx:  # the registry only: no Spark
        promote(ctx, args.version)


def score_batch(args: argparse.Namespace, session: Session, cfg: Config) -> None:
    from speedrun.steps.score import score, score_arrived

    if args.arrived and args.batch_id:
        raise SpeedrunError("give --batch-id or --arrived, not both: with --arrived each folder names its batch")
    with context(args, session, cfg) as ctx:
        if args.arrived:
            score_arrived(ctx, args.input, args.version, verdict=not args.no_drift_verdict)
        else:
            score(ctx, args.input, args.batch_id, args.version, verdict=not args.no_drift_verdict)


def drift_verdict(args: argparse.Namespace, session: Session, cfg: Config) -> None:
    from speedrun.steps.drift import drift, drift_arrived

    if bool(args.arrived) == bool(args.batch_id):
        raise SpeedrunError("give --batch-id (one scored batch) or --arrived (the batches score --arrived scored)")
    with context(args, session, cfg) as ctx:
        if args.arrived:
            drift_arrived(ctx)
        else:
            drift(ctx, args.batch_id)


def duration(text: str) -> float:
    try:
        return seconds(text)
    except ValueError as exc:
        raise SpeedrunError(f"--budget: {exc}") from None
