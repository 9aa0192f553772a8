"""What each raw file says of its own layout, read in Python before Spark reads it (no Spark job): a CSV file's
header and whether its quoted values hold line breaks, a Parquet file's columns. Spark's CSV reader applies one
header to every file by position, and Spark's Parquet reader takes one file's columns for all: files that differ
would put values in the wrong column, or lose a column, without a word."""

from __future__ import annotations

import bz2
import csv
import gzip
import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from speedrun.config import SourceConfig
from speedrun.errors import SpeedrunError

BLOCK_BYTES = 32 * 2**20


def open_binary(file: str) -> io.BufferedIOBase:
    """The file's bytes, decompressed where it is gzip (by name or by its first bytes) or bzip2 (by name)."""
    stream = open(file, "rb")  # noqa: SIM115 - handed to the caller, who closes it
    magic = stream.read(2)
    stream.seek(0)
    if file.endswith(".gz") or magic == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=stream)
    if file.endswith(".bz2"):
        return bz2.BZ2File(stream)
    return stream


def text_encoding(encoding: str) -> str:
    """UTF-8 read with or without a byte-order mark (Spark's reader skips it too)."""
    return "utf-8-sig" if encoding.lower().replace("-", "").replace("_", "") == "utf8" else encoding


def csv_header(file: str, source: SourceConfig) -> list[str]:
    """The column names on the first line of a CSV file that is not a comment, as written."""
    with io.TextIOWrapper(open_binary(file), encoding=text_encoding(source.encoding), newline="") as lines:
        wanted = (line for line in lines if not (source.comment and line.startswith(source.comment)))
        try:
            return next(csv.reader(wanted, delimiter=source.delimiter, quotechar=source.quote), [])
        except (UnicodeDecodeError, OSError, EOFError) as exc:
            raise SpeedrunError(f"cannot read the header of {file} as {source.encoding} text: {exc}") from None


def ends_inside_quotes(line: str, delimiter: str, quote: str, escape: str) -> bool:
    """Whether a CSV line ends inside a quoted value (a quote opens a value only at its start)."""
    quoted, at_start, i = False, True, 0
    while i < len(line):
        ch = line[i]
        if quoted:
            if ch == escape and escape != quote and i + 1 < len(line):
                i += 1
            elif ch == quote:
                if i + 1 < len(line) and line[i + 1] == quote:
                    i += 1
                else:
                    quoted = False
        elif ch == quote and at_start:
            quoted = True
        at_start = ch == delimiter if not quoted else False
        i += 1
    return quoted


def blocks(file: str) -> Iterator[bytes]:
    with open_binary(file) as stream:
        while block := stream.read(BLOCK_BYTES):
            yield block


def odd_quote_lines(block: bytes, quote: int) -> Iterator[tuple[int, int]]:
    """(start, end) of each line of `block` with an odd number of quote bytes: numpy, not a Python loop."""
    data = np.frombuffer(block, dtype=np.uint8)
    ends = np.flatnonzero(data == 10)
    before = np.concatenate(([0], np.cumsum(data == quote)))[ends]  # quotes before each line end
    odd = np.flatnonzero(np.diff(np.concatenate(([0], before))) % 2 == 1)
    starts = np.concatenate(([0], ends + 1))
    for k in odd:
        yield int(starts[k]), int(ends[k])


def quoted_line_break(file: str, source: SourceConfig) -> int | None:
    """The number of a line that ends inside a quoted value (a record with a line break in a quoted value), or
    None. Only lines with an odd number of quote characters are parsed; a file without quotes costs one count."""
    if not source.quote:
        return None
    quote, seen_lines, carry = source.quote.encode()[0], 0, b""
    for block in blocks(file):
        data = carry + block
        last = data.rfind(b"\n")
        whole, carry = data[: last + 1], data[last + 1 :]
        if whole.count(quote):
            for start, end in odd_quote_lines(whole, quote):
                line = whole[start:end].decode(text_encoding(source.encoding), errors="replace").rstrip("\r")
                if ends_inside_quotes(line, source.delimiter, source.quote, source.escape):
                    return seen_lines + whole.count(b"\n", 0, start) + 1
        seen_lines += whole.count(b"\n")
    if carry and ends_inside_quotes(carry.decode(errors="replace"), source.delimiter, source.quote, source.escape):
        return seen_lines + 1
    return None


def differences(expected: list[str], found: list[str]) -> str:
    """How a file's columns differ from the first file's, in words."""
    missing = [c for c in expected if c not in found]
    extra = [c for c in found if c not in expected]
    parts = [f"no {', '.join(missing)}"] if missing else []
    parts += [f"an extra {', '.join(extra)}"] if extra else []
    if not parts:
        parts = [f"repeated columns ({', '.join(sorted({c for c in found if found.count(c) > 1}))})"]
    return " and ".join(parts)


def group_by_header(files: list[str], headers: list[list[str]], key: str) -> dict[tuple[str, ...], list[str]]:
    """The files of each header, the first file's first; one line naming the first file whose columns are not
    the first file's (in any order)."""
    first = [name.strip() for name in headers[0]]
    groups: dict[tuple[str, ...], list[str]] = {}
    for file, header in zip(files, headers, strict=True):
        names = [name.strip() for name in header]
        if sorted(names) != sorted(first) or len(set(names)) != len(names):
            raise SpeedrunError(
                f"{file} has columns {', '.join(names)}; {files[0]} has {', '.join(first)} "
                f"({Path(file).name} has {differences(first, names)}): files of one source ({key}) need the same "
                "columns, in any order"
            )
        groups.setdefault(tuple(header), []).append(file)
    return groups


def parquet_columns(files: list[str], key: str) -> None:
    """One line naming the first Parquet file whose columns are not the first file's (Spark would read every
    file with the first one's columns: a column only some files have would be lost, or read as missing)."""
    import pyarrow.parquet as pq

    first = pq.read_schema(files[0]).names
    for file in files[1:]:
        names = pq.read_schema(file).names
        if sorted(names) != sorted(first):
            raise SpeedrunError(
                f"{file} has columns {', '.join(names)}; {files[0]} has {', '.join(first)} "
                f"({Path(file).name} has {differences(first, names)}): files of one source ({key}) need the same "
                "columns"
            )
