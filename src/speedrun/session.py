"""The Spark session factory: a local session with Delta Lake, or the cluster's own session on Databricks.

Delta's jars come from Maven Central through Spark's resolver (`spark.jars.packages`, delta-spark's
documented way) on the first start; later starts load the jars it left in its Ivy cache. Where that resolver
cannot reach Maven Central, `make delta-jars` fetches the same two artifacts with `mvn` into a folder, and
`SPEEDRUN_DELTA_JARS=<folder>` makes the session load them as `spark.jars`.
There is no fallback to Parquet: a session without Delta is an error.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from importlib import resources
from importlib.metadata import version
from pathlib import Path

import pyspark
from pyspark.sql import SparkSession

from speedrun.errors import SpeedrunError
from speedrun.jvm_cache import archive_options
from speedrun.progress import count_jobs_with, say

SCALA_BINARY = "2.13"
DELTA_ARTIFACTS = ("delta-spark_" + SCALA_BINARY, "delta-storage")
DELTA_CONF = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
}
# Tuned for one machine: few shuffle partitions, no UI, no console progress bar, a small Delta log state, no
# per-file column statistics (they serve data skipping in selective queries; speedrun's reads are full scans, and
# collecting them is a large share of a large write). The JIT is left as the JVM's default: C1-only compilation
# saved nothing on small data and made large data slower (`benchmarks/results/measurements.md`).
LOCAL_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.log.level": "ERROR",
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "4",
    "spark.databricks.delta.snapshotPartitions": "2",
    "spark.databricks.delta.stats.collect": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.driver.memory": "4g",
    # What the status store keeps of finished jobs: the step lines count jobs from the latest id, read through
    # py4j one element at a time, and a warm server runs for many commands.
    "spark.ui.retainedJobs": "50",
    "spark.ui.retainedStages": "100",
    "spark.sql.ui.retainedExecutions": "50",
    "spark.sql.codegen.cache.maxEntries": "2000",
}


def delta_version() -> str:
    return version("delta-spark")


def delta_packages() -> str:
    """Maven coordinates of the Delta jars matching the installed delta-spark, both loaded the same way."""
    return ",".join(f"io.delta:{artifact}:{delta_version()}" for artifact in DELTA_ARTIFACTS)


def delta_jars(folder: str) -> list[str]:
    """The Delta jars in `folder` (from `make delta-jars`), or an error naming what is missing."""
    found = []
    for artifact in DELTA_ARTIFACTS:
        jar = Path(folder) / f"{artifact}-{delta_version()}.jar"
        if not jar.is_file():
            raise SpeedrunError(
                f"SPEEDRUN_DELTA_JARS={folder} has no {jar.name}: run `make delta-jars` or unset the variable"
            )
        found.append(str(jar.resolve()))
    return found


# Where Spark's resolver keeps the jars it fetched (Spark 4.0's default `spark.jars.ivy`).
IVY_JARS = Path.home() / ".ivy2.5.2" / "jars"


def resolved_delta_jars(folder: Path | None = None) -> list[str] | None:
    """Both Delta jars, once a first session's resolver has put them in its Ivy cache; else None. Loading them
    from there skips the resolution (its report on the console, and its time) at every later session start."""
    folder = folder or IVY_JARS
    jars = [folder / f"io.delta_{artifact}-{delta_version()}.jar" for artifact in DELTA_ARTIFACTS]
    return [str(jar) for jar in jars] if all(jar.is_file() for jar in jars) else None


def local_conf(master: str = "local[2]", extra: dict[str, str] | None = None) -> dict[str, str]:
    """All settings of a local session with Delta (tested without starting Spark)."""
    log4j = resources.files("speedrun.conf").joinpath("log4j2.properties")
    jars_folder = os.environ.get("SPEEDRUN_DELTA_JARS")
    jars = ",".join(delta_jars(jars_folder) if jars_folder else resolved_delta_jars() or []) or None
    java_options = [
        *archive_options(f"{Path(pyspark.__file__).parent}\n{jars or delta_packages()}"),
        f"-Dlog4j2.configurationFile=file:{log4j}",
    ]
    conf = {
        "spark.master": master,
        **DELTA_CONF,
        **LOCAL_CONF,
        "spark.driver.extraJavaOptions": " ".join(java_options),
        "spark.pyspark.python": sys.executable,
    }
    if jars:
        conf["spark.jars"] = jars
    else:
        conf["spark.jars.packages"] = delta_packages()
    conf.update(extra or {})
    return conf


def on_databricks() -> bool:
    return "DATABRICKS_RUNTIME_VERSION" in os.environ


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
