"""validate and promote: the model lifecycle in the registry (MLflow's locally, Unity Catalog's on Databricks).

train registers every fitted pipeline as a new model version, and evaluate points `candidate` at it once its test
metrics are recorded (the promotion job starts on that). validate checks a version's test metrics against
the configured thresholds and against the current `champion`, and on success sets the alias `challenger`.
promote moves `champion` to the challenger (or a given version); earlier versions stay registered.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from speedrun.config import Config, ValidationConfig
from speedrun.context import RunContext
from speedrun.edges.registry import CHALLENGER, CHAMPION, client, version_by_alias, version_named
from speedrun.edges.runs import find_run, recorded_evaluation
from speedrun.edges.tables import Tables
from speedrun.edges.tracking import registered_model_name, use_experiment
from speedrun.errors import SpeedrunError
from speedrun.progress import step


def run_of_version(spark: SparkSession, tables: Tables, version: str) -> str:
    cfg = tables.cfg
    runs = tables.read(spark, "training_runs")
    found = runs.where((F.col("registered_model") == registered_model_name(cfg)) & (F.col("model_version") == version))
    row = found.select("run_id").first()
    if row is None:
        raise SpeedrunError(f"no training run registered version {version} of {registered_model_name(cfg)}")
    return row["run_id"]


@dataclass(frozen=True)
class Verdict:
    version: str
    passed: bool
    checks: list[str]


def judge(
    metrics: dict[str, float], validation: ValidationConfig, champion: dict[str, float] | None
) -> list[tuple[bool, str]]:
    """Each check with its outcome and a line giving the metric, its threshold and the champion's value."""
    checks = []
    for metric, minimum in validation.thresholds.items():
        value = metrics.get(metric)
        ok = value is not None and value >= minimum
        checks.append((ok, f"{metric} {_fmt(value)} (threshold {minimum:g})"))
    if champion is not None:
        metric, gain = validation.compare_on, validation.min_gain
        value, best = metrics.get(metric), champion.get(metric)
        ok = value is not None and best is not None and value >= best + gain
        checks.append((ok, f"{metric} {_fmt(value)} vs champion {_fmt(best)} (min gain {gain:g})"))
    return checks


def validate(ctx: RunContext, version: str | None = None) -> Verdict:
    """Check `version` (a number or an alias: the promotion job gives `candidate`), else the model version of the
    run (`--run-id`, default the latest); set `challenger` on it if it passes, else fail naming every check."""
    spark, cfg, run_id = ctx.spark, ctx.cfg, ctx.options.run_id
    use_experiment(cfg)
    name = registered_model_name(cfg)
    with step("validate") as progress:
        if version is not None:
            run_id = run_of_version(spark, ctx.tables, version_named(name, version))
        run = find_run(spark, cfg, run_id)
        if run["model_version"] is None:
            raise SpeedrunError(f"run {run['run_id']} registered no model version (was tracking off?)")
        champion_version = version_by_alias(name, CHAMPION)
        champion = None
        if champion_version is not None and champion_version != run["model_version"]:
            champion = _test_metrics(spark, cfg, run_of_version(spark, ctx.tables, champion_version))
        checks = judge(_test_metrics(spark, cfg, run["run_id"]), cfg.validation, champion)
        verdict = Verdict(run["model_version"], all(ok for ok, _ in checks), [line for _, line in checks])
        if not verdict.passed:
            failed = "; ".join(line for ok, line in checks if not ok)
            raise SpeedrunError(f"version {verdict.version} of {name} failed validation: {failed}")
        client().set_registered_model_alias(name, CHALLENGER, verdict.version)
        progress.done(f"version {verdict.version} of {name} is {CHALLENGER}: {'; '.join(verdict.checks)}")
    return verdict


def promote(ctx: RunContext, version: str | None = None) -> str:
    """Move `champion` to `version` (default: the challenger); returns the version promoted."""
    cfg = ctx.cfg
    use_experiment(cfg)
    name = registered_model_name(cfg)
    with step("promote") as progress:
        version = version or version_by_alias(name, CHALLENGER)
        if version is None:
            raise SpeedrunError(f"{name} has no {CHALLENGER}: run `speedrun validate` first, or give --version")
        previous = version_by_alias(name, CHAMPION)
        client().set_registered_model_alias(name, CHAMPION, version)
        progress.done(f"{name} {CHAMPION}: version {version}" + (f" (was {previous})" if previous else ""))
    return version


def _test_metrics(spark: SparkSession, cfg: Config, run_id: str) -> dict[str, float]:
    return json.loads(recorded_evaluation(spark, cfg, run_id)["metrics"])


def _fmt(value: float | None) -> str:
    return "missing" if value is None else f"{value:.4f}"
