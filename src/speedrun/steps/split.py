"""split: each silver row's split, train / validation / test, kept as silver's `_split` column (see
`transforms.splits` for why a column, and why not `randomSplit`).

The step checks that the stored split is the configured one (a new seed or new fractions: silver is written
again with the new split, as one commit) and that each split can be evaluated, before anything is trained."""

from __future__ import annotations

from speedrun.context import RunContext
from speedrun.progress import step
from speedrun.transforms.contract import contract_of
from speedrun.transforms.splits import (
    SPLITS,
    SplitResult,
    assign_splits,
    checked_counts,
    checked_split,
    describe,
    split_is_stale,
)


def describe_rows(record) -> str:
    return ", ".join(f"{name} {getattr(record, f'{name}_rows'):,}" for name in SPLITS)


def split(ctx: RunContext) -> SplitResult | None:
    """Check silver's split (the silver this run made, or kept, or the latest) against the config; when it
    differs, write silver again with the configured split, as one commit. Then check that each split can be
    evaluated; the counts are the run's (`ctx.split`)."""
    cfg, given_test = ctx.cfg, ctx.cfg.test_source is not None
    with step("split") as progress:
        if ctx.earlier is not None:  # train and evaluate are up to date: nothing needs the split's counts
            record = ctx.earlier.record
            progress.done(f"up to date: run {record.run_id}'s split, {describe_rows(record)}")
            return None
        made_by_this_config = ctx.wrote("silver") or ctx.kept is not None
        if not made_by_this_config and split_is_stale(ctx.read("silver"), cfg.split, given_test):
            resplit = assign_splits(ctx.read("silver"), cfg.split, given_test)
            ctx.write("silver", resplit, lineage={"silver": ctx.version("silver")})
            ctx.hold("silver", resplit)
        if ctx.wrote("silver") and ctx.counted is not None:  # prepare counted silver's rows as it made them
            classes = contract_of(ctx.read("silver")).classes
            ctx.split = checked_counts(ctx.counted, classes, cfg.split.validation > 0)
        else:
            silver_test = ctx.read("silver_test") if given_test else None
            ctx.split = checked_split(ctx.read("silver"), silver_test, cfg.split.validation > 0)
        progress.done(describe(ctx.split, given_test))
    return ctx.split
