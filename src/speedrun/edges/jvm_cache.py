"""A class-data-sharing archive of the driver JVM's classes, so local sessions after the first start faster.

A local Spark session with Delta loads ~30,000 classes from ~250 jars, verifying each, on one thread; that is
a large part of a short job's time. Java's class-data sharing (CDS, JDK >= 13) keeps them pre-parsed in an
archive: `make install`'s warm-up (`jvm_warmup`), or else the first local session on a machine, writes it when its
JVM exits (`-XX:ArchiveClassesAtExit`), later ones map it (`-XX:SharedArchiveFile`); measured in
`benchmarks/results/measurements.md`. The archive is specific to the Java build and to pyspark's jars and Delta's
version, which name it; it
lives in `~/.cache/speedrun/cds`, which keeps the three most recent (`SPEEDRUN_CDS=0` turns this off).
A stale or damaged archive is ignored by the JVM.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import time
from functools import cache
from pathlib import Path

SETTLED_SECONDS = 20  # an archive being written is not used until it has not changed for this long
ABANDONED_SECONDS = 3600  # an empty archive file this old was left by a JVM that died before writing it
KEEP_ARCHIVES = 3  # archives of other installs (each ~230 MB) beyond the most recent few are deleted


@cache
def java_version() -> str | None:
    """`java -version`'s first line, or None when Java cannot be run."""
    java = Path(os.environ["JAVA_HOME"]) / "bin" / "java" if os.environ.get("JAVA_HOME") else Path("java")
    try:
        shown = subprocess.run([str(java), "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return shown.stderr.strip().splitlines()[0] if shown.stderr.strip() else None


def supports_dynamic_archive(version_line: str | None) -> bool:
    """Java 13 or later (`openjdk version "17.0.9" ...`)."""
    found = re.search(r'version "(\d+)', version_line or "")
    return found is not None and int(found.group(1)) >= 13


def cache_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "speedrun" / "cds"


def archive_name(classpath_key: str) -> str:
    return hashlib.sha256(f"{java_version()}\n{classpath_key}".encode()).hexdigest()[:16]


def writing_archive(classpath_key: str, folder: Path | None = None) -> Path:
    """Where this process's JVM writes the archive at exit, when it was started to write one."""
    return (folder or cache_folder()) / f"{archive_name(classpath_key)}.{os.getpid()}.writing"


def archive_options(classpath_key: str, folder: Path | None = None) -> list[str]:
    """JVM options: map the archive for this Java and these jars, or write it at exit when there is none yet."""
    version_line = java_version()
    if os.environ.get("SPEEDRUN_CDS", "1") == "0" or not supports_dynamic_archive(version_line):
        return []
    folder = folder or cache_folder()
    name = archive_name(classpath_key)
    archive = folder / f"{name}.jsa"
    quiet = ["-Xshare:auto", "-Xlog:cds=off", "-Xlog:cds+dynamic=off"]
    if not archive.is_file():
        adopt_written(folder, name)
    if archive.is_file():
        return [f"-XX:SharedArchiveFile={archive}", *quiet]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return []
    if any(folder.glob(f"{name}.*.writing")):
        return []  # another session is writing it
    return [f"-XX:ArchiveClassesAtExit={writing_archive(classpath_key, folder)}", *quiet]


def adopt(written: Path) -> Path | None:
    """The archive a JVM known to have exited wrote, under its final name (atomically); None if it wrote none."""
    if not written.is_file() or written.stat().st_size == 0:
        return None
    archive = written.with_name(written.name.split(".", 1)[0] + ".jsa")
    written.replace(archive)
    prune(written.parent)
    return archive


def adopt_written(folder: Path, name: str) -> None:
    """Give a finished archive its final name (atomically); delete an empty one abandoned long ago, which would
    otherwise stop every later session from writing the archive."""
    for written in sorted(folder.glob(f"{name}.*.writing")):
        try:
            age = time.time() - written.stat().st_mtime
            if age > ABANDONED_SECONDS and written.stat().st_size == 0:
                written.unlink(missing_ok=True)
            elif age > SETTLED_SECONDS and written.stat().st_size > 0:
                written.replace(folder / f"{name}.jsa")
                prune(folder)
                return
        except OSError:
            continue


def prune(folder: Path, keep: int = KEEP_ARCHIVES) -> None:
    """Delete all but the `keep` most recently written archives (each install of pyspark or Java has its own),
    and archives written long ago but never adopted: their install never started a session again (a
    throw-away clone, say), and each holds ~230 MB."""
    archives = sorted(folder.glob("*.jsa"), key=lambda path: path.stat().st_mtime, reverse=True)
    for old in archives[keep:]:
        old.unlink(missing_ok=True)
    for written in folder.glob("*.writing"):
        try:
            if time.time() - written.stat().st_mtime > ABANDONED_SECONDS:
                written.unlink(missing_ok=True)
        except OSError:
            continue
