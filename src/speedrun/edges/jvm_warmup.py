"""`python -m speedrun.edges.jvm_warmup`, which `make install` runs: one local session runs a small pipeline end to
end (CSV, Delta, Spark ML, MLflow), then its JVM exits and writes the class-data archive of every class it loaded
(`jvm_cache`), waited for; so the first local session of a new install starts and runs as warm as the later ones
(measured: the fast test suite 116 s without an archive, 87 s with one). The Delta jars are resolved here too.
Nothing is left behind but the archive and the Ivy cache; `SPEEDRUN_CDS=0` skips it."""

from __future__ import annotations

import os
import sys
import tempfile
import time

from speedrun.config import load_config
from speedrun.edges.jvm_cache import adopt, archive_options, writing_archive
from speedrun.edges.local_session import classpath_key
from speedrun.edges.session import get_spark
from speedrun.errors import SpeedrunError
from speedrun.flow import run_pipeline
from speedrun.progress import say


def stop_and_wait(spark) -> None:
    """Stop the session and wait for its JVM to exit (it writes the archive as it exits)."""
    from pyspark import SparkContext

    gateway = SparkContext._gateway
    spark.stop()
    if gateway is not None and getattr(gateway, "proc", None) is not None:
        gateway.proc.stdin.close()  # the JVM exits when its parent's stdin closes
        gateway.proc.wait(timeout=600)


def main() -> int:
    key = classpath_key()
    if not any(o.startswith("-XX:ArchiveClassesAtExit") for o in archive_options(key)):
        return 0  # off, unsupported, already written, or being written by another session
    started = time.perf_counter()
    written = writing_archive(key)
    with tempfile.TemporaryDirectory(prefix="speedrun-warmup-") as work:
        settings = [f"storage.work_dir={work}", "source.generate_if_missing.rows=2000", "model.max_iter=10"]
        spark = get_spark("speedrun-warmup")
        run_pipeline(spark, load_config("default", settings))
        stop_and_wait(spark)
    archive = adopt(written)
    outcome = f"archive {archive}" if archive else "no archive written"
    say(f"warm-up   {outcome} in {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("SPEEDRUN_SERVER", "0")
    try:
        sys.exit(main())
    except SpeedrunError as exc:
        say(f"warm-up   error: {exc}")
        sys.exit(2)
