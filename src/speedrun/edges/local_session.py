"""The local edge of the session factory, used only off Databricks: a session's settings on this machine, the
Delta jars it loads (Maven Central through Spark's resolver on the first start; its Ivy cache later; or a folder
from `make delta-jars` named by `SPEEDRUN_DELTA_JARS`), and the driver JVM's class archive (`jvm_cache`)."""

from __future__ import annotations

import os
import sys
from importlib import resources
from importlib.metadata import version
from pathlib import Path

import pyspark

from speedrun.edges.jvm_cache import archive_options
from speedrun.errors import SpeedrunError

SCALA_BINARY = "2.13"


DELTA_ARTIFACTS = ("delta-spark_" + SCALA_BINARY, "delta-storage")


DELTA_CONF = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
}


DRIVER_MEMORY = "2g"
LOCAL_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.log.level": "ERROR",
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "4",
    "spark.databricks.delta.snapshotPartitions": "2",
    "spark.databricks.delta.stats.collect": "false",
    # a count of a Delta table first tries to answer from the files' statistics, which local tables do not
    # collect: two Spark jobs for nothing in every count (5 jobs -> 3 for a count of a table read before)
    "spark.databricks.delta.optimizeMetadataQuery.enabled": "false",
    "spark.sql.session.timeZone": "UTC",
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


IVY_JARS = Path.home() / ".ivy2.5.2" / "jars"


def resolved_delta_jars(folder: Path | None = None) -> list[str] | None:
    """Both Delta jars, once a first session's resolver has put them in its Ivy cache; else None. Loading them
    from there skips the resolution (its report on the console, and its time) at every later session start."""
    folder = folder or IVY_JARS
    jars = [folder / f"io.delta_{artifact}-{delta_version()}.jar" for artifact in DELTA_ARTIFACTS]
    return [str(jar) for jar in jars] if all(jar.is_file() for jar in jars) else None


JIT_HUGE_METHODS = "-XX:-DontCompileHugeMethods"


def classpath_key() -> str:
    """What the driver JVM's class-data archive is valid for: pyspark's jars (the JVM's classpath) and Delta's
    version (its jars are loaded by Spark's own class loader, from the Ivy cache or as packages alike)."""
    return f"{Path(pyspark.__file__).parent}\n{delta_version()}"


def local_conf(master: str = "local[2]", extra: dict[str, str] | None = None) -> dict[str, str]:
    """All settings of a local session with Delta (tested without starting Spark)."""
    log4j = resources.files("speedrun.conf").joinpath("log4j2.properties")
    jars_folder = os.environ.get("SPEEDRUN_DELTA_JARS")
    jars = ",".join(delta_jars(jars_folder) if jars_folder else resolved_delta_jars() or []) or None
    java_options = [
        *archive_options(classpath_key()),
        f"-Dlog4j2.configurationFile=file:{log4j}",
        # Spark's generated code for a stage of many expressions (cleaning, reasons, silver's casts) is a method
        # over HotSpot's 8,000-byte limit for compiling: left interpreted, prepare's passes took 3x as long
        JIT_HUGE_METHODS,
    ]
    conf = {
        "spark.master": master,
        **DELTA_CONF,
        **LOCAL_CONF,
        # the driver's heap: local mode's one JVM; more rows than about 10^7 may want more (SPEEDRUN_DRIVER_MEMORY=6g)
        "spark.driver.memory": os.environ.get("SPEEDRUN_DRIVER_MEMORY", DRIVER_MEMORY),
        "spark.driver.extraJavaOptions": " ".join(java_options),
        "spark.pyspark.python": sys.executable,
    }
    if jars:
        conf["spark.jars"] = jars
    else:
        conf["spark.jars.packages"] = delta_packages()
    conf.update(extra or {})
    return conf
