"""Raw files on this machine's file system (a plain path, `file:`, or a Databricks `/Volumes/...` mount): listed,
and looked at, in Python, with no Spark job and no JVM gateway; and small files of speedrun's own written whole."""

from __future__ import annotations

import glob
import os
import re
from pathlib import Path

from speedrun.errors import SpeedrunError

SNIFFED_BYTES = 4096


def local_path(path: str) -> str | None:
    """`path` on this machine's file system, or None for a remote URI, which only Spark can list."""
    if path.startswith("file:"):
        return re.sub(r"^file:/*", "/", path)
    return None if "://" in path else path


def data_files(path: str) -> list[str] | None:
    """The data files a local `path` (a file, a folder or a glob) matches, in name order, without Spark's and
    Hadoop's marker files (`_SUCCESS`, `.crc`); None for a remote path."""
    local = local_path(path)
    if local is None:
        return None
    found = []
    for match in sorted(glob.glob(local)):
        candidates = sorted(Path(match).rglob("*")) if Path(match).is_dir() else [Path(match)]
        found += [str(f) for f in candidates if f.is_file() and not f.name.startswith(("_", "."))]
    return found


def looks_like(file: str) -> str:
    """What a file's first bytes say it is: parquet, json, gzip, bzip2, text or binary."""
    with open(file, "rb") as stream:
        head = stream.read(SNIFFED_BYTES)
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"BZh"):
        return "bzip2"
    if b"\x00" in head:
        return "binary"
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    return "json" if text.startswith(("{", "[")) else "text"


ACCEPTS = {"csv": {"text", "gzip", "bzip2"}, "json": {"json", "gzip", "bzip2"}, "parquet": {"parquet"}}


def require_format(files: list[str], configured: str, key: str) -> None:
    """One line naming the first file that is not of the configured format, and what it looks like."""
    for file in files:
        found = looks_like(file)
        if found not in ACCEPTS.get(configured, {found}):
            first = ""
            if found in ("text", "json"):
                with open(file, encoding="utf-8", errors="replace") as lines:
                    first = f" (its first line: {lines.readline().strip()[:80]!r})"
            raise SpeedrunError(
                f"{file} is configured as {configured} ({key.rsplit('.', 1)[0]}.format) but looks like "
                f"{'CSV or other text' if found == 'text' else found}{first}: set the format, or point "
                f"{key} at the {configured} files"
            )


def write_whole(path: Path, text: str) -> None:
    """`text` in the file at `path` (folders made), written whole under another name, then renamed: a reader never
    sees half a file, and two writers of the same file leave one whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.new")
    partial.write_text(text)
    partial.replace(path)
