"""The Spark session factory: the cluster's own session on Databricks (and under spark-submit), else a local
session with Delta Lake (its settings and jars: `local_session`). There is no fallback to Parquet: a session
without Delta is an error.
"""

from __future__ import annotations

import os
import shutil
import sys
import time

from pyspark.sql import SparkSession

from speedrun.config import Config
from speedrun.edges.local_session import delta_packages, delta_version, local_conf
from speedrun.errors import SpeedrunError
from speedrun.progress import count_jobs_with, label_jobs_with, say
from speedrun.transforms.model_size import serverless_size_refusal
from speedrun.transforms.search import fitted_models

# Tuned for one machine: few shuffle partitions, no UI, no console progress bar, a small Delta log state, no
# per-file column statistics (they serve data skipping in selective queries; speedrun's reads are full scans, and
# collecting them is a large share of a large write). The JIT is left as the JVM's default: C1-only compilation
# saved nothing on small data and made large data slower (`benchmarks/results/measurements.md`).


# Where Spark's resolver keeps the jars it fetched (Spark 4.0's default `spark.jars.ivy`).


def on_databricks() -> bool:
    return "DATABRICKS_RUNTIME_VERSION" in os.environ


def on_serverless() -> bool:
    """Databricks serverless compute, whose runtime version reads `client.<environment version>`."""
    return os.environ.get("DATABRICKS_RUNTIME_VERSION", "").startswith("client.")


# What serverless compute does not run: xgboost trains in Spark barrier tasks, an RDD API.
NOT_ON_SERVERLESS = {"xgboost": "it trains in Spark barrier tasks (an RDD API), which serverless compute does not run"}


def serverless_refusal(models: list[dict]) -> str | None:
    """Why serverless compute cannot train or keep one of the model sections `models` (a run's, or a search's
    candidates), if it cannot: the run's line, and the offline bundle validation's."""
    refused = sorted({m["type"] for m in models} & set(NOT_ON_SERVERLESS))
    if not refused:
        return serverless_size_refusal(models)
    return (
        f"model type {refused[0]} cannot be trained on serverless compute: {NOT_ON_SERVERLESS[refused[0]]}; "
        "choose logistic_regression, random_forest or gbt (for tuning: a search: without it), or run on a "
        "target with job clusters (dev, staging, prod)"
    )


def runs_here(cfg: Config, tuning: bool) -> None:
    """Fail in one line, before any work, when this compute cannot train or keep one of the models a run of
    `cfg` fits (the search's candidates when `tuning`); only serverless compute refuses any."""
    if not on_serverless():
        return
    refusal = serverless_refusal(fitted_models(cfg.model, cfg.search, tuning))
    if refusal:
        raise SpeedrunError(refusal)


def get_spark(app_name: str = "speedrun", master: str | None = None, extra: dict[str, str] | None = None):
    """The session to run speedrun in.

    On Databricks, or under `spark-submit`, or in a test that already started one, the existing
    session is used; otherwise a local session with Delta is started.
    """
    if on_databricks():
        return SparkSession.builder.getOrCreate()
    active = SparkSession.getActiveSession()
    if active is not None:
        return require_delta(active)
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise SpeedrunError("Java was not found: install Java 17 and put `java` on PATH (or set JAVA_HOME)")
    builder = SparkSession.builder.appName(app_name)
    launched_by_spark_submit = "SPARK_SUBMIT" in os.environ or os.environ.get("PYSPARK_GATEWAY_PORT")
    conf = local_conf(master or os.environ.get("SPEEDRUN_MASTER", "local[2]"), extra)
    if launched_by_spark_submit:
        # The JVM is already running: master and jars were chosen on the spark-submit command line.
        for key in ("spark.master", "spark.jars", "spark.jars.packages", "spark.driver.extraJavaOptions"):
            conf.pop(key, None)
    for key, value in conf.items():
        builder = builder.config(key, value)
    # Python workers (xgboost's training tasks, UDFs) run this interpreter and its packages: pyspark reads the
    # variable, not `spark.pyspark.python`, when it starts the JVM itself; python3 on PATH may be another one.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    started = time.perf_counter()
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    count_jobs_with(spark_jobs_counter(spark))
    label_jobs_with(spark.sparkContext.setJobDescription)
    elapsed = time.perf_counter() - started
    say(f"{'spark':<9} started in {elapsed:4.1f}s  {spark.sparkContext.master}, Delta {delta_version()}")
    return require_delta(spark)


def spark_jobs_counter(spark: SparkSession):
    """How many Spark jobs the session has launched so far (jobs are numbered from 0), for the step lines."""
    tracker = spark.sparkContext.statusTracker()
    return lambda: max(tracker.getJobIdsForGroup(None), default=-1) + 1


def require_delta(spark: SparkSession) -> SparkSession:
    """Fail with a clear message when Delta Lake is not on the session's classpath."""
    try:
        loader = spark._jvm.java.lang.Thread.currentThread().getContextClassLoader()
        spark._jvm.java.lang.Class.forName("io.delta.tables.DeltaTable", False, loader)
    except Exception:
        raise SpeedrunError(
            "Delta Lake is not available in this Spark session: start it with "
            f"`--packages {delta_packages()}` (spark-submit) or through speedrun's session factory; "
            "speedrun never falls back to Parquet"
        ) from None
    return spark
