"""`speedrun <step>`: thin entry points. Each parses its arguments, builds the config and calls one step.

The same `main` serves the `speedrun` command, the `speedrun-<step>` entry points that the bundle's
`python_wheel_task`s call, and the `jobs/<step>.py` scripts that `spark-submit` runs.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from speedrun.errors import SpeedrunError
from speedrun.progress import say
from speedrun.server_client import server_wanted

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

STEPS = (
    "init",
    "generate",
    "ingest",
    "prepare",
    "split",
    "train",
    "evaluate",
    "validate",
    "promote",
    "score",
    "run",
    "tune",
    "replay",
)


class ReplayMismatch(SpeedrunError):
    """A replay whose outcome differs from the recorded one (exit code 1)."""


# Every step takes --run-id, so that a job's tasks can share one argument list; the steps that name a training
# run use it.
RUN_ID_HELP = {
    "train": "name the run (default: time + random suffix); a rerun replaces it",
    "evaluate": "the training run to evaluate (default: the latest)",
    "validate": "the training run to validate (default: the latest)",
    "run": "name the run (default: time + random suffix)",
    "tune": "name the run (default: time + random suffix)",
}
RUN_ID_IGNORED = "accepted so that a job's tasks share their arguments; this step names no run"


def shared_flags(sub: argparse.ArgumentParser) -> None:
    """--debug and --no-server, also accepted after the step's name."""
    sub.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    sub.add_argument("--no-server", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="speedrun", description="Machine learning on Spark, fast.")
    parser.add_argument("--debug", action="store_true", help="show the full stack trace of an error")
    parser.add_argument(
        "--no-server", action="store_true", help="run in a Spark session of this process, not the warm server"
    )
    steps = parser.add_subparsers(dest="step", required=True, metavar="STEP")
    for name, help_text in [
        ("ingest", "raw files -> bronze Delta table"),
        ("prepare", "bronze -> silver (clean) and quarantine tables"),
        ("split", "silver -> seeded train / validation / test tables"),
        ("train", "fit the ML pipeline on the train table; record the run"),
        ("evaluate", "score the test table; write the metrics table and JSON"),
        ("run", "ingest, prepare, split, train and evaluate in one Spark session"),
        ("tune", "run, trying the search's candidates (or the default search): the best on validation is kept"),
    ]:
        sub = steps.add_parser(name, help=help_text)
        sub.add_argument("--config", default="default", help="YAML file, or a packaged config name (default)")
        sub.add_argument(
            "--set",
            dest="overrides",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="override a config key, e.g. --set model.max_iter=50 (repeatable)",
        )
        shared_flags(sub)
        if name in ("evaluate", "run", "tune"):
            sub.add_argument("--metrics-out", help="where to write the metrics JSON (default: in the run's folder)")
        if name in ("run", "tune"):
            sub.add_argument(
                "--fresh", action="store_true", help="read the raw files again even when silver is up to date"
            )
        if name == "tune":
            sub.add_argument("--budget", help="no candidate starts after this long, e.g. 90s or 5m (search.budget)")
        sub.add_argument("--run-id", help=RUN_ID_HELP.get(name, RUN_ID_IGNORED))
    val = steps.add_parser("validate", help="check a run's model version; set alias challenger if it passes")
    pro = steps.add_parser("promote", help="move alias champion to the challenger (or --version)")
    for sub in (val, pro):
        sub.add_argument("--config", default="default", help="YAML file, or a packaged config name (default)")
        sub.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
        shared_flags(sub)
    val.add_argument("--run-id", help=RUN_ID_HELP["validate"])
    pro.add_argument("--run-id", help=RUN_ID_IGNORED)
    sco = steps.add_parser("score", help="score new data with the champion (or --version) into predictions")
    sco.add_argument("--config", default="default", help="YAML file, or a packaged config name (default)")
    sco.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    shared_flags(sco)
    sco.add_argument("--input", help="files to score, from where you are (default: scoring.path)")
    sco.add_argument("--batch-id", help="the batch's id; scoring it again replaces its rows (default: the input path)")
    sco.add_argument("--version", help="the model version (default: the champion)")
    pro.add_argument("--version", help="the model version to promote (default: the challenger)")
    rep = steps.add_parser("replay", help="re-run split, train and evaluate of a run from its recorded versions")
    rep.add_argument("run_id", help="the training run to replay")
    rep.add_argument("--config", default="default", help="YAML file, or a packaged config name (default)")
    rep.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    shared_flags(rep)
    ini = steps.add_parser("init", help="write a first config for a data file, from a sample of it")
    ini.add_argument("data", help="the data: a CSV, Parquet or JSON-lines file, folder or glob")
    ini.add_argument("--label", required=True, help="the label column: a name, a 1-based column number, or last")
    ini.add_argument("--output", help="the config file to write (default: <data file name>.yml here)")
    shared_flags(ini)
    gen = steps.add_parser("generate", help="write a deterministic synthetic dataset as CSV files")
    gen.add_argument("--rows", type=int, default=20_000)
    gen.add_argument("--seed", type=int, default=7)
    gen.add_argument("--output", required=True, help="output folder")
    shared_flags(gen)
    srv = steps.add_parser("server", help="the local server that keeps Spark warm between commands")
    srv.add_argument("action", choices=("status", "stop"), help="status: whether one runs; stop: stop it")
    shared_flags(srv)
    return parser


def dispatch(args: argparse.Namespace, spark: SparkSession | None = None) -> None:
    """Run the step in this process: in `spark` (the warm server's session), else in a session of its own."""
    if args.step == "init":
        from speedrun.first_config import init

        init(args.data, args.label, args.output)
        return
    from speedrun.session import get_spark

    if spark is not None:
        get_spark = lambda _name: spark  # noqa: E731

    if args.step == "generate":
        from speedrun.generate import generate
        from speedrun.progress import step

        with step("generate") as progress:
            generate(get_spark("speedrun-generate"), args.rows, args.seed, args.output)
            progress.done(f"{args.rows:,} rows -> {args.output}")
        return

    from speedrun.config import load_config

    cfg = load_config(args.config, args.overrides)
    budget = duration(args.budget) if getattr(args, "budget", None) else None  # checked before Spark starts
    if args.step in ("run", "tune", "train", "evaluate", "replay"):
        from speedrun.tracking import start_tracking

        start_tracking(cfg)  # in the background, while the JVM starts
    spark = get_spark(f"speedrun-{args.step}")
    if args.step in ("run", "tune"):
        from speedrun.flow import print_summary, run_pipeline

        print_summary(run_pipeline(spark, cfg, args.metrics_out, args.run_id, args.step == "tune", budget, args.fresh))
    elif args.step == "evaluate":
        from speedrun.evaluate import evaluate
        from speedrun.flow import print_summary

        print_summary(evaluate(spark, cfg, args.run_id, args.metrics_out))
    elif args.step == "replay":
        from speedrun.replay import replay

        result = replay(spark, cfg, args.run_id)
        if result.differences:
            raise ReplayMismatch(f"replay of run {args.run_id} differs: " + "; ".join(result.differences))
        print(f"replay of run {args.run_id}: metrics, confusion matrix and row counts match exactly")
    elif args.step == "validate":
        from speedrun.registry import validate

        validate(spark, cfg, args.run_id)
    elif args.step == "promote":
        from speedrun.registry import promote

        promote(cfg, args.version)
    elif args.step == "score":
        from speedrun.score import score

        score(spark, cfg, args.input, args.batch_id, args.version)
    elif args.step == "train":
        from speedrun.train import train

        train(spark, cfg, args.run_id)
    else:
        import importlib

        module = importlib.import_module(f"speedrun.{args.step}")
        getattr(module, args.step)(spark, cfg)


def duration(text: str) -> float:
    from speedrun.config.search import seconds

    try:
        return seconds(text)
    except ValueError as exc:
        raise SpeedrunError(f"--budget: {exc}") from None


def main(argv: list[str] | None = None) -> int:
    """`speedrun <argv>`: in the warm local server (started if none runs) or, opted out, on Databricks and under
    spark-submit, in this process. The config and arguments are checked here first, before any Spark starts."""
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    if args.step == "server":
        from speedrun.server_commands import server_command

        return server_command(args.action)
    if args.step == "init" or not server_wanted(args.no_server):
        return run_here(argv)
    try:
        idle_minutes = checked_before_spark(args)
        from speedrun.server_client import run_in_server

        return run_in_server([a for a in argv if a != "--no-server"], idle_minutes)
    except SpeedrunError as exc:
        if args.debug:
            raise
        print(f"speedrun {args.step}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def checked_before_spark(args: argparse.Namespace) -> float:
    """Load the config and read --budget (one-line errors before any Spark); the server's idle minutes."""
    if not hasattr(args, "config"):
        return 20.0
    from speedrun.config import load_config

    cfg = load_config(args.config, args.overrides)
    if getattr(args, "budget", None):
        duration(args.budget)
    return cfg.server.idle_minutes


def run_here(argv: list[str], spark: SparkSession | None = None) -> int:
    """Run `speedrun <argv>` in this process (in `spark`, when given); its exit code."""
    args = build_parser().parse_args(argv)
    started = time.perf_counter()
    try:
        dispatch(args, spark)
    except SpeedrunError as exc:
        if args.debug:
            raise
        print(f"speedrun {args.step}: error: {exc}", file=sys.stderr)
        return 1 if isinstance(exc, ReplayMismatch) else 2
    say(f"{args.step} finished in {time.perf_counter() - started:.1f}s")
    return 0


def _entry_point(step: str) -> Callable[[], None]:
    def entry() -> None:
        code = main([step, *sys.argv[1:]])
        if code:
            # A python_wheel_task calls this function and ignores what it returns (the bundle's wheel wrapper
            # does `entry.load()()`): only an exception fails the task, stops the tasks after it and e-mails.
            raise SystemExit(code)

    entry.__name__ = f"{step}_main"
    entry.__doc__ = (
        f"The `speedrun-{step}` entry point: `speedrun {step}` with the command line's arguments; a failure "
        "raises SystemExit with its exit code."
    )
    return entry


generate_main = _entry_point("generate")
ingest_main = _entry_point("ingest")
prepare_main = _entry_point("prepare")
split_main = _entry_point("split")
train_main = _entry_point("train")
evaluate_main = _entry_point("evaluate")
run_main = _entry_point("run")
tune_main = _entry_point("tune")
init_main = _entry_point("init")
replay_main = _entry_point("replay")
validate_main = _entry_point("validate")
promote_main = _entry_point("promote")
score_main = _entry_point("score")
