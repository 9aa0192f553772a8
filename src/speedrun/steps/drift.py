"""drift: the verdict on a scored batch's drift, as its own step: the rows `score` kept in `<name>_drift` for the
batch, against `scoring.drift.fail`. The scoring job runs it as a task of its own, without retries, after a
`score --no-drift-verdict` task that retries: a drifted batch then fails the job once, its rows written, instead
of being scored again by each retry (drift is not a failure a retry mends)."""

from __future__ import annotations

from speedrun.context import RunContext
from speedrun.edges.arrivals import judge, unjudged
from speedrun.edges.drift_report import kept_drift
from speedrun.errors import SpeedrunError
from speedrun.progress import step
from speedrun.transforms.batch_drift import shift_error


def drift(ctx: RunContext, batch_id: str) -> list[dict]:
    """Fail when a feature of batch `batch_id` drifted above `scoring.drift.fail`; its drift rows."""
    cfg, tables = ctx.cfg, ctx.tables
    with step("drift") as progress:
        if not tables.exists(ctx.spark, "predictions"):
            raise SpeedrunError(f"no batch was scored yet ({tables.location('predictions')}): run `speedrun score`")
        rows = kept_drift(ctx.spark, tables, batch_id)
        failed = shift_error(rows, cfg.scoring.drift.fail, tables.location("drift"))
        if failed is not None:
            raise failed
        top = max(rows, key=lambda r: r["psi"], default=None)
        progress.done(
            f"batch {batch_id}: "
            + (f"largest PSI {top['feature']} {top['psi']:.3f}" if top else "drift not measured")
            + (f", under scoring.drift.fail = {cfg.scoring.drift.fail:g}" if top and cfg.scoring.drift.fail else "")
        )
    return rows


def drift_arrived(ctx: RunContext) -> list[str]:
    """The verdict on every batch `score --arrived` scored since its last verdict: fail once naming each that
    drifted above `scoring.drift.fail` (judged, it does not fail the next run again); the batches judged."""
    with step("drift") as progress:
        batches = unjudged(ctx.spark, ctx.tables)
        failed = judge(ctx.spark, ctx.tables, batches, ctx.cfg.scoring.drift.fail)
        if failed is not None:
            raise failed
        progress.done(f"{len(batches)} batch(es) judged: {', '.join(batches) or 'none new'}, none drifted")
    return batches
