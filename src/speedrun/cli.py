"""`speedrun <step>`: thin entry points. Each parses its arguments, builds the config and calls one step.

The same `main` serves the `speedrun` command, the `speedrun-<step>` entry points that the bundle's
`python_wheel_task`s call, and the `jobs/<step>.py` scripts that `spark-submit` runs.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING

from speedrun.actions import ReplayMismatch, duration
from speedrun.commands import COMMANDS, STEPS
from speedrun.config import Config, ServerConfig, load_config
from speedrun.errors import INTERNAL_ERROR, USER_ERROR, SpeedrunError
from speedrun.progress import say
from speedrun.server.client import run_in_server, server_wanted
from speedrun.server.commands import server_command

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def parser() -> argparse.ArgumentParser:
    """`speedrun`'s arguments: the shared ones declared here, each step's own in its `Command`."""
    root = argparse.ArgumentParser(prog="speedrun", description="Machine learning on Spark, fast.")
    root.add_argument("--debug", action="store_true", help="show the full stack trace of an error")
    root.add_argument(
        "--no-server", action="store_true", help="run in a Spark session of this process, not the warm server"
    )
    steps = root.add_subparsers(dest="step", required=True, metavar="STEP")
    for name, command in COMMANDS.items():
        sub = steps.add_parser(name, help=command.help)
        if command.configured:
            sub.add_argument("--config", default="default", help="YAML file, or a packaged config name (default)")
            sub.add_argument(
                "--set",
                dest="overrides",
                action="append",
                default=[],
                metavar="KEY=VALUE",
                help="override a config key, e.g. --set model.max_iter=50 (repeatable)",
            )
        for flags, settings in command.options:
            sub.add_argument(*flags, **settings)
        if command.configured and command.run_id is not None:
            sub.add_argument("--run-id", help=command.run_id)
        if command.configured:  # where a job's task runs from, recorded with a training run (no env on serverless)
            sub.add_argument("--bundle-target", help="the bundle target running this step (default: SPEEDRUN_TARGET)")
            sub.add_argument("--git-commit", help="the commit it was deployed from (default: SPEEDRUN_GIT_COMMIT)")
        # also accepted after the step's name
        sub.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        sub.add_argument("--no-server", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return root


def dispatch(args: argparse.Namespace, spark: SparkSession | None = None) -> None:
    """Run the step in this process: in `spark` (the warm server's session), else in a session of its own,
    started when the step first needs it."""
    cfg = checked_config(args)
    if cfg is not None and COMMANDS[args.step].tracked:
        from speedrun.edges.tracking import start_tracking  # MLflow's and pyspark's modules: only when a step runs

        start_tracking(cfg)  # in the background, while the JVM starts

    def session() -> SparkSession:
        from speedrun.edges.session import get_spark

        return spark or get_spark(f"speedrun-{args.step}")

    COMMANDS[args.step].does(args, session, cfg)


def main(argv: list[str] | None = None) -> int:
    """`speedrun <argv>`: in the warm local server (started if none runs) or, opted out, on Databricks and under
    spark-submit, in this process. The config and arguments are checked here first, before any Spark starts."""
    argv = sys.argv[1:] if argv is None else argv
    args = parser().parse_args(argv)
    if args.step == "server":
        return server_command(args.action)
    if args.step == "init" or not server_wanted(args.no_server):
        return run_here(argv)
    try:
        cfg = checked_config(args)
        server = cfg.server if cfg else ServerConfig()  # a step without a config: the default idle time
        return run_in_server([a for a in argv if a != "--no-server"], server.idle_minutes)
    except SpeedrunError as exc:
        say_error(args, exc)
        return USER_ERROR
    except KeyboardInterrupt:
        return 130


def checked_config(args: argparse.Namespace) -> Config | None:
    """The step's config (None for a step that takes none), and --budget read: one-line errors before any Spark."""
    if not COMMANDS[args.step].configured:
        return None
    cfg = load_config(args.config, args.overrides)
    if getattr(args, "budget", None):
        duration(args.budget)
    return cfg


def run_here(argv: list[str], spark: SparkSession | None = None) -> int:
    """Run `speedrun <argv>` in this process (in `spark`, when given); its exit code."""
    args = parser().parse_args(argv)
    started = time.perf_counter()
    try:
        dispatch(args, spark)
    except SpeedrunError as exc:
        say_error(args, exc)
        return 1 if isinstance(exc, ReplayMismatch) else USER_ERROR
    except Exception as exc:  # not foreseen: one line all the same, and an exit code of its own
        say_error(args, exc)
        return INTERNAL_ERROR
    say(f"{args.step} finished in {time.perf_counter() - started:.1f}s")
    return 0


def say_error(args: argparse.Namespace, exc: Exception) -> None:
    """One line naming what is at fault, in one write (whole, whatever else prints); with --debug, the stack
    trace before it. An error speedrun did not foresee is named by its type and its message's first line."""
    if args.debug:
        sys.stderr.write("".join(traceback.format_exception(exc)))
    if isinstance(exc, SpeedrunError):
        sys.stderr.write(f"speedrun {args.step}: error: {exc}\n")
        return
    first_line = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
    hint = "" if args.debug else " (--debug shows the stack trace)"
    sys.stderr.write(f"speedrun {args.step}: internal error: {type(exc).__name__}: {first_line}{hint}\n")


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


def __getattr__(name: str) -> Callable[[], None]:
    """`speedrun.cli.<step>_main`: the entry point of each step (`[project.scripts]`, the bundle's wheel tasks)."""
    step = name.removesuffix("_main")
    if name.endswith("_main") and step in STEPS:
        return _entry_point(step)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
