"""split: each silver row's split, train / validation / test, kept as silver's `_split` column (see
`transforms.splits` for why a column, and why not `randomSplit`).

The step checks that the stored split is the configured one (a new seed or new fractions: silver is written
again with the new split, as one commit) and that each split can be evaluated, before anything is trained; it
returns the rows of each split by class (`SplitResult`), which train weighs its classes by."""

from __future__ import annotations

from collections import Counter

from speedrun.context import RunContext
from speedrun.progress import step
from speedrun.transforms.contract import contract_of
from speedrun.transforms.splits import (
    SplitResult,
    assign_splits,
    checked_counts,
    checked_split,
    describe,
    split_is_stale,
)


def split(ctx: RunContext, counts: dict[str, Counter] | None = None, current: bool = False) -> SplitResult:
    """Check silver's split (the silver this run made, or kept, or the latest) against the config; when it
    differs, write silver again with the configured split, as one commit. Then check that each split can be
    evaluated, from `counts` (silver's rows per split and class index, as prepare made them in this run) or from
    silver's rows. `current`: silver holds this config's split (the runner made it, or kept it up to date)."""
    cfg, given_test = ctx.cfg, ctx.cfg.test_source is not None
    with step("split") as progress:
        if not current and split_is_stale(ctx.read("silver"), cfg.split, given_test):
            resplit = assign_splits(ctx.read("silver"), cfg.split, given_test)
            ctx.write("silver", resplit, lineage={"silver": ctx.version("silver")})
            ctx.hold("silver", resplit)
            counts = None
        if counts is not None:
            checked = checked_counts(counts, contract_of(ctx.read("silver")).classes, cfg.split.validation > 0)
        else:
            silver_test = ctx.read("silver_test") if given_test else None
            checked = checked_split(ctx.read("silver"), silver_test, cfg.split.validation > 0)
        progress.done(describe(checked, given_test, contract_of(ctx.read("silver")).classes))
    return checked
