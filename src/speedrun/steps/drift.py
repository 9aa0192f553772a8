"""Drift of a scored batch (inside `score`): the batch's rows profiled in the bins of the training rows' profile
kept with the registered model, one row per feature in `<name>_drift`, a chart of the latest batch in
`<work_dir>/scoring/<name>/drift.html`, and one line: which features moved (`scoring.drift.warn`) or shifted
(`scoring.drift.fail`: the scoring task then fails, after writing its predictions and its drift rows)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import DoubleType, StringType, StructField, StructType

from speedrun.config import DriftConfig
from speedrun.edges.drift_report import write_drift_report
from speedrun.edges.tables import Tables
from speedrun.errors import SpeedrunError
from speedrun.transforms.drift import Profile, batch_binning, bin_counts, drift_rows

DRIFT_SCHEMA = StructType(
    [
        StructField("batch_id", StringType(), False),
        StructField("model_name", StringType(), False),
        StructField("model_version", StringType(), False),
        StructField("feature", StringType(), False),
        StructField("kind", StringType(), False),
        StructField("psi", DoubleType(), False),
        StructField("unseen_share", DoubleType(), False),
        StructField("bins", StringType(), False),  # JSON: [{bin, training, batch}] shares
    ]
)


@dataclass(frozen=True)
class Drift:
    rows: list[dict[str, Any]]
    settings: DriftConfig

    def above(self, level: float | None) -> list[dict[str, Any]]:
        if level is None:
            return []
        return sorted((r for r in self.rows if r["psi"] > level), key=lambda r: -r["psi"])

    def line(self) -> str:
        """One line for the scoring run: the largest drift, and the features that moved."""
        top = max(self.rows, key=lambda r: r["psi"])
        moved = self.above(self.settings.warn)
        named = ", ".join(f"{r['feature']} {r['psi']:.3f}" for r in moved)
        if not moved:
            return f"drift: none above {self.settings.warn:g} (largest PSI {top['feature']} {top['psi']:.3f})"
        return f"drift: PSI above {self.settings.warn:g} on {named}"


def batch_drift(good: DataFrame, profile: Profile, settings: DriftConfig) -> Drift:
    """The batch's drift from the training profile, feature by feature (one Spark job over the batch)."""
    counts = bin_counts(good, batch_binning(profile)) if profile else {}
    return Drift(drift_rows(profile, counts), settings)


def keep_drift(spark: SparkSession, tables: Tables, drift: Drift, batch_id: str, model: tuple[str, str]) -> None:
    """The batch's drift rows in `<name>_drift` (replacing the batch's earlier ones) and its chart."""
    rows = [(batch_id, *model, r["feature"], r["kind"], r["psi"], r["unseen_share"], r["bins"]) for r in drift.rows]
    df = spark.createDataFrame(rows, DRIFT_SCHEMA).withColumn("scored_at", F.current_timestamp())
    tables.replace(df, "drift", f"batch_id = '{batch_id}'")
    cfg = tables.cfg
    folder = Path(cfg.storage.resolve(f"scoring/{cfg.name}"))
    write_drift_report(folder, batch_id, model, drift.rows, drift.settings.warn, drift.settings.fail)


def refuse_shift(drift: Drift, table: str) -> None:
    """Fail the scoring task when a feature's drift is above `scoring.drift.fail` (its rows are written)."""
    shifted = drift.above(drift.settings.fail)
    if shifted:
        named = ", ".join(f"{r['feature']} (PSI {r['psi']:.3f})" for r in shifted)
        raise SpeedrunError(
            f"scored batch drifted from the training rows above scoring.drift.fail = {drift.settings.fail:g}: "
            f"{named}; predictions and drift rows are written ({table})"
        )
