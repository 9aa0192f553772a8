"""A scored batch's drift from the training rows (the index of `drift` per feature), its one line, and the
verdict on it against `scoring.drift.fail`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyspark.sql import DataFrame

from speedrun.config import DriftConfig
from speedrun.errors import SpeedrunError
from speedrun.transforms.drift import Profile, batch_binning, bin_counts, drift_rows


@dataclass(frozen=True)
class Drift:
    """A scored batch's drift: one row per feature (`drift_rows`), or none when the batch had too few rows for a
    PSI to mean anything (`scored` of them, under `settings.min_rows`)."""

    rows: list[dict[str, Any]]
    settings: DriftConfig
    scored: int

    @property
    def measured(self) -> bool:
        return bool(self.rows)

    def above(self, level: float | None) -> list[dict[str, Any]]:
        if level is None:
            return []
        return sorted((r for r in self.rows if r["psi"] > level), key=lambda r: -r["psi"])

    def line(self) -> str:
        """One line for the scoring run: the largest drift and the features that moved, or why none was measured."""
        if not self.measured:
            return (
                f"drift: not measured on {self.scored:,} rows (a PSI needs scoring.drift.min_rows = "
                f"{self.settings.min_rows:,})"
            )
        top = max(self.rows, key=lambda r: r["psi"])
        moved = self.above(self.settings.warn)
        named = ", ".join(f"{r['feature']} {r['psi']:.3f}" for r in moved)
        if not moved:
            return f"drift: none above {self.settings.warn:g} (largest PSI {top['feature']} {top['psi']:.3f})"
        return f"drift: PSI above {self.settings.warn:g} on {named}"


def batch_drift(good: DataFrame, scored: int, profile: Profile, settings: DriftConfig) -> Drift:
    """The drift of a batch's `scored` good rows from the training profile, feature by feature (one Spark job over
    the batch); not measured on fewer than `settings.min_rows`."""
    if scored < settings.min_rows:
        return Drift([], settings, scored)
    return Drift(drift_rows(profile, bin_counts(good, batch_binning(profile))), settings, scored)


def shift_error(rows: list[dict[str, Any]], fail: float | None, table: str) -> SpeedrunError | None:
    """The error that fails a batch whose drift `rows` has a feature above `fail` (`scoring.drift.fail`); None
    when none is."""
    shifted = sorted((r for r in rows if fail is not None and r["psi"] > fail), key=lambda r: -r["psi"])
    if not shifted:
        return None
    named = ", ".join(f"{r['feature']} (PSI {r['psi']:.3f})" for r in shifted)
    return SpeedrunError(
        f"scored batch drifted from the training rows above scoring.drift.fail = {fail:g}: {named}; "
        f"predictions and drift rows are written ({table})"
    )
