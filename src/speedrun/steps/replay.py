"""`speedrun replay RUN_ID`: split -> train -> evaluate again, from the silver version the run recorded and
with the run's own resolved config, and check that the metrics match the recorded ones exactly.

Nothing is written: the replayed split, model and metrics live in memory only, so a replay can never change
the tables or the runs it checks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pyspark.sql import SparkSession

from speedrun.config import Config
from speedrun.context import RunContext
from speedrun.edges.runs import find_run, recorded_evaluation, recorded_threshold
from speedrun.errors import SpeedrunError
from speedrun.progress import step
from speedrun.transforms.fit import fit_configured
from speedrun.transforms.outcome import outcome_on_test
from speedrun.transforms.splits import SPLITS, assign_splits, class_counts, rows_of


@dataclass(frozen=True)
class Replay:
    run_id: str
    recorded: dict[str, object]
    replayed: dict[str, object]

    @property
    def differences(self) -> list[str]:
        keys = sorted(set(self.recorded) | set(self.replayed))
        return [
            f"{k}: recorded {self.recorded.get(k)!r}, replayed {self.replayed.get(k)!r}"
            for k in keys
            if self.recorded.get(k) != self.replayed.get(k)
        ]


def recorded_outcome(spark: SparkSession, cfg: Config, run_id: str) -> dict[str, object]:
    evaluated = recorded_evaluation(spark, cfg, run_id)
    return {**json.loads(evaluated["metrics"]), "confusion_matrix": [list(r) for r in evaluated["confusion_matrix"]]}


def replay(ctx: RunContext, run_id: str) -> Replay:
    """The context's config locates the tables; the model, split and features come from the run's recorded
    config."""
    spark, cfg, tables = ctx.spark, ctx.cfg, ctx.tables
    with step("replay") as progress:
        run = find_run(spark, cfg, run_id)
        recorded_cfg = Config.model_validate(json.loads(run["config"]))
        if run["silver_version"] is None:
            raise SpeedrunError(f"run {run_id} did not record the silver version it was split from")
        given_test = recorded_cfg.test_source is not None
        try:
            # the split drawn again from the recorded config, not read from silver's `_split` column
            silver = assign_splits(tables.read(spark, "silver", run["silver_version"]), recorded_cfg.split, given_test)
            silver_test = tables.read(spark, "silver_test", run["test_version"]) if given_test else None
            rows = {name: rows_of(silver, name, silver_test) for name in SPLITS}
        except Exception as exc:
            if isinstance(exc, SpeedrunError):
                raise
            raise SpeedrunError(
                f"version {run['silver_version']} of {tables.location('silver')} cannot be read "
                f"(vacuumed?): {str(exc).splitlines()[0]}"
            ) from None
        # what train fits and evaluate measures, on the recorded rows, at the recorded threshold
        _, model, _, _ = fit_configured(recorded_cfg, rows, class_counts(silver, silver_test))
        outcome = outcome_on_test(model, rows["test"], recorded_threshold(run))
        counts = {f"{name}_rows": df.count() for name, df in rows.items()}
        replayed = {**outcome.metrics, "confusion_matrix": outcome.matrix, **counts}
        recorded = {**recorded_outcome(spark, cfg, run_id), **{k: run[k] for k in counts}}
        result = Replay(run_id, recorded, replayed)
        progress.done("metrics match exactly" if not result.differences else f"{len(result.differences)} differences")
    return result
