"""speedrun: production-ready machine learning on Spark, fast."""

from importlib.metadata import PackageNotFoundError, version

from speedrun.config import load_config
from speedrun.config.search import seconds

try:
    __version__ = version("speedrun")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+source"

# `run` and `tune` import the pipeline (pyspark, MLflow) when called: `import speedrun`, which the command line's
# client does, stays light


def run(
    spark,
    config: str = "default",
    overrides: list[str] | None = None,
    run_id: str | None = None,
    fresh: bool = False,
):
    """The whole pipeline in a notebook's session (`spark`: Databricks' own, or
    `speedrun.edges.session.get_spark()`), warm from the second call on: ingest, prepare, split, train, evaluate.
    `config` is a YAML file or a packaged config's name; `overrides` are `key=value` strings as `--set` takes
    them; `fresh`: ingest and prepare even when silver is up to date. Returns the Evaluation (its `report` dict
    holds the test metrics)."""
    from speedrun.context import RunOptions  # Spark's modules: when called, so `import speedrun` stays light
    from speedrun.flow import run_pipeline

    return run_pipeline(spark, load_config(config, overrides), RunOptions(run_id=run_id, reuse_silver=not fresh))


def tune(
    spark,
    config: str = "default",
    overrides: list[str] | None = None,
    budget: str | None = None,
    run_id: str | None = None,
    fresh: bool = False,
):
    """`run`, trying the config's search (or the default search) and keeping the best on validation; `budget`
    such as "5m" stops starting new candidates after it."""
    from speedrun.context import RunOptions  # as in `run`
    from speedrun.flow import run_pipeline

    options = RunOptions(run_id, tune=True, budget=seconds(budget) if budget else None, reuse_silver=not fresh)
    return run_pipeline(spark, load_config(config, overrides), options)
