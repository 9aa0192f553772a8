"""speedrun's promises about input, one row each: the files, the config, and the outcome the user must get.

Every input kind that README.md and docs/your-data.md promise to handle has a row here, and `test_conformance.py`
runs each through the command line's own entry, as a user runs `speedrun run` and `speedrun score`. A case is
kept when it ends as its row says: exit 0 with every row read accounted for (read = accepted + quarantined), the
quarantine count it gives and every accepted value in its own column; or exit 2 with one line naming the file,
column or key at fault. Adding a promise is adding a row.

The training files hold rows made by `rows()`: `x` a whole number, `c` the category `c<x mod 3>`, `y` the label
`yes` for odd `x`; so a value in the wrong column, or a row read twice, breaks `x -> c, y` and is caught.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.parquet as pq

Files = dict[str, bytes]  # path under the case's folder -> content


def rows(n: int = 100, start: int = 0) -> list[tuple[int, str, str]]:
    return [(i, f"c{i % 3}", "yes" if i % 2 else "no") for i in range(start, start + n)]


def csv(table: list[tuple], header: str | None = "x,c,y", sep: str = ",", quote: str = "") -> str:
    lines = [header] if header is not None else []
    lines += [sep.join(f"{quote}{v}{quote}" if isinstance(v, str) else str(v) for v in row) for row in table]
    return "\n".join(lines) + "\n"


def text(content: str, encoding: str = "utf-8") -> bytes:
    return content.encode(encoding)


def parquet(table: list[tuple], names: tuple[str, ...] = ("x", "c", "y")) -> bytes:
    out = io.BytesIO()
    pq.write_table(pa.table({n: [row[i] for row in table] for i, n in enumerate(names)}), out)
    return out.getvalue()


def json_lines(table: list[tuple], broken: dict[int, str] | None = None) -> bytes:
    lines = [json.dumps({"x": x, "c": c, "y": y}) for x, c, y in table]
    for at, line in (broken or {}).items():
        lines[at] = line
    return ("\n".join(lines) + "\n").encode()


def with_lines(content: str, replaced: dict[int, str]) -> str:
    """`content` with its lines at the given numbers (0: the header) replaced."""
    lines = content.splitlines()
    for at, line in replaced.items():
        lines[at] = line
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Case:
    """One promise: `files` under `raw/`, the `settings` (`--set` values) beyond a label `y` and no id, and the
    outcome: `code`, and for 0 the rows `read` and `quarantined` (with a `reason` among theirs); for 2, `said`
    (a regular expression the one error line matches)."""

    name: str
    files: Files
    settings: tuple[str, ...] = ()
    code: int = 0
    read: int | None = None
    quarantined: int = 0
    reason: str | None = None
    said: str | None = None
    test_rows: int | None = None  # a given test file's rows read (test_source)
    standard: bool = True  # the rows are `rows()`'s: their values are checked in their columns


BASE = rows()
CSV = csv(BASE)
BROKEN_RECORD = "two\nlines"
ODD_NUMBERS = csv([(v, "c0", "no") for v in ("NaN", "Infinity", "-inf", "1e400")] + rows(96, 4))

READING: list[Case] = [
    Case("csv with a header", {"d.csv": text(CSV)}, read=100),
    Case("semicolon delimiter", {"d.csv": text(csv(BASE, "x;c;y", ";"))}, ("source.delimiter=';'",), read=100),
    Case("tab delimiter", {"d.tsv": text(csv(BASE, "x\tc\ty", "\t"))}, ('source.delimiter="\\t"',), read=100),
    Case("values padded after the delimiter", {"d.csv": text(csv(BASE, "x, c, y", ", "))}, read=100),
    Case(
        "single quotes around values holding the delimiter",
        {"d.csv": text(csv(BASE, "x,c,y", ",", "'").replace("'c1'", "'c1, or so'", 1))},
        ('source.quote="\'"',),
        read=100,
        standard=False,
    ),
    Case(
        "quoted line breaks found in the file",
        {"d.csv": text(csv([*BASE[:50], (50, BROKEN_RECORD, "no"), *BASE[51:]], quote='"'))},
        read=100,
        standard=False,
    ),
    Case(
        "quoted line breaks with source.multiline",
        {"d.csv": text(csv([*BASE[:50], (50, BROKEN_RECORD, "no"), *BASE[51:]], quote='"'))},
        ("source.multiline=true",),
        read=100,
        standard=False,
    ),
    Case("comment lines", {"d.csv": text("# exported 2026-11-30\n" + CSV)}, ("source.comment='#'",), read=100),
    Case(
        "latin-1 encoding",
        {"d.csv": text(CSV.replace("c2", "c2é"), "latin-1")},
        ("source.encoding=ISO-8859-1",),
        read=100,
        standard=False,
    ),
    Case("a utf-8 byte-order mark", {"d.csv": b"\xef\xbb\xbf" + text(CSV)}, read=100),
    Case("gzip", {"d.csv.gz": gzip.compress(text(CSV))}, read=100),
    Case("bzip2", {"d.csv.bz2": bz2.compress(text(CSV))}, read=100),
    Case(
        "no header, column names given",
        {"d.csv": text(csv(BASE, None))},
        ("source.header=false", "source.column_names=[x, c, y]"),
        read=100,
    ),
    Case(
        "a missing-value token",
        {"d.csv": text(with_lines(CSV, {1: "?,c0,no", 2: "1,?,yes"}))},
        ("source.null_values=['', '?']",),
        read=100,
        standard=False,
    ),
    Case(
        "NaN is missing, infinite numbers are quarantined",
        {"d.csv": text(ODD_NUMBERS)},
        read=100,
        quarantined=3,
        reason="x: not a finite number",
        standard=False,
    ),
    Case(
        "a declared number that is not one is quarantined",
        {"d.csv": text(with_lines(CSV, {5: "four,c1,no"}))},
        ("columns.numeric=[x]",),
        read=100,
        quarantined=1,
        reason="x: not a number",
    ),
    Case(
        "lines with too many fields are quarantined whole",
        {"d.csv": text(with_lines(CSV, {1: "0,c0,no,extra", **{k: f"{k - 1},c{(k - 1) % 3},no,x" for k in (9, 30)}}))},
        read=100,
        quarantined=3,
        reason="malformed line (wrong number of fields)",
    ),
    Case(
        "lines with too few fields are quarantined whole",
        {"d.csv": text(with_lines(CSV, {3: "2,c2", 40: "39"}))},
        read=100,
        quarantined=2,
        reason="malformed line (wrong number of fields)",
    ),
    Case(
        "files listing the columns in another order",
        {"a.csv": text(csv(BASE[:50])), "b.csv": text(csv([(c, y, x) for x, c, y in BASE[50:]], "c,y,x"))},
        read=100,
    ),
    Case(
        "a file with an extra column",
        {"a.csv": text(CSV), "b.csv": text(csv([(*r, 1) for r in BASE], "x,c,y,z"))},
        code=2,
        said=r"/b\.csv has columns x, c, y, z; .*/a\.csv has x, c, y \(b\.csv has an extra z\)",
    ),
    Case(
        "labels with a trailing dot or quotes are the same class",
        {"d.csv": text(CSV.replace(",yes\n", ",yes.\n", 10).replace(",no\n", ",'no'\n", 10))},
        read=100,
    ),
    Case(
        "a missing label and an unknown one are quarantined",
        {"d.csv": text(with_lines(CSV, {4: "3,c0,", 8: "7,c1,maybe"}))},
        ("columns.label.classes=['no', 'yes']",),
        read=100,
        quarantined=2,
        reason="y: label is not one of no, yes",
    ),
    Case(
        "a label with one class",
        {"d.csv": text(csv([(x, c, "no") for x, c, _ in BASE]))},
        code=2,
        said=r"label column y has a single class \('no'\)",
    ),
    Case(
        "a column named as one speedrun adds",
        {"d.csv": text(csv([(*r, "a") for r in BASE], "x,c,y,_split"))},
        code=2,
        said=r"d\.csv \(source\.path\) has a column named _split, a name speedrun gives its own columns",
    ),
    Case(
        "names with spaces, dots and parentheses, and Spark ML's own names",
        {"d.csv": text(csv([(x, c, x % 5, y) for x, c, y in BASE], "age (years),plan.name,prediction,y"))},
        read=100,
        standard=False,
    ),
    Case("json lines", {"d.jsonl": json_lines(BASE)}, ("source.format=json",), read=100),
    Case(
        "json lines with broken records",
        {"d.jsonl": json_lines(BASE, {0: '{"x": 0, "c": "c0"', 17: "not json at all"})},
        ("source.format=json",),
        read=100,
        quarantined=2,
        reason="malformed line (not a JSON record)",
    ),
    Case(
        "a json field named as the column speedrun keeps malformed lines in",
        {
            "d.jsonl": text(
                "\n".join(json.dumps({"x": x, "c": c, "y": y, "_corrupt_record": "mine"}) for x, c, y in BASE)
            )
        },
        ("source.format=json",),
        code=2,
        said=r"d\.jsonl \(source\.path\) has a column named _corrupt_record, a name speedrun gives its own columns",
    ),
    Case("parquet", {"d.parquet": parquet(BASE)}, ("source.format=parquet",), read=100),
    Case(
        "parquet files with other columns",
        {"a.parquet": parquet(BASE), "b.parquet": parquet([(x, c) for x, c, _ in BASE], ("x", "c"))},
        ("source.format=parquet",),
        code=2,
        said=r"/b\.parquet has columns x, c; .*/a\.parquet has x, c, y \(b\.parquet has no y\)",
    ),
    Case(
        "a given test file",
        {"d.csv": text(CSV), "test/t.csv": text(csv(rows(40, 100)))},
        ("test_source={path: raw/test/t.csv}", "source.path=raw/d.csv"),
        read=100,
        test_rows=40,
    ),
    Case(
        "a given test file with other columns",
        {"d.csv": text(CSV), "test/t.csv": text(csv([(x, y) for x, _, y in rows(40, 100)], "x,y"))},
        ("test_source={path: raw/test/t.csv}", "source.path=raw/d.csv"),
        code=2,
        said=r"the test file's columns differ from the training file's: .*/t\.csv has x, y; expected x, c, y",
    ),
    Case(
        "too many bad rows",
        {"d.csv": text(with_lines(CSV, {k: f"{k},c0,no,extra" for k in range(1, 21)}))},
        code=2,
        said=r"20\.0% of rows failed cleaning, more than prepare\.max_quarantined_fraction = 0\.1: malformed line",
    ),
    Case("a missing file", {}, ("source.path=raw/nothing.csv",), code=2, said=r"source not found: .*nothing\.csv"),
    Case(
        "a configured column the files lack",
        {"d.csv": text(CSV)},
        ("columns.numeric=[x, z]",),
        code=2,
        said=r"column z not found in .*raw; its columns are: x, c, y",
    ),
    Case(
        "a CSV configured as parquet",
        {"d.csv": text(CSV)},
        ("source.format=parquet",),
        code=2,
        said=r"d\.csv is configured as parquet \(source\.format\) but looks like CSV",
    ),
    Case("a misspelt key", {"d.csv": text(CSV)}, ("source.delimeter=';'",), code=2, said=r"source\.delimeter"),
]


# Scoring: one model, trained on `rows(400)` under the names a spreadsheet gives (`customer id` its id, features
# `age (years)` and `plan.name`), then each batch scored with `speedrun score`
# drawn as the training rows are: no drift
SCORED = [(i, f"c{i % 3}", "yes" if i % 2 else "no") for i in range(400) if i % 4 != 3]
SCORED_CSV = csv([(f"r{x}", x, c) for x, c, _ in SCORED], "customer id,age (years),plan.name")


@dataclass(frozen=True)
class Batch:
    """A scoring batch: its files, the outcome (`code`; rows `scored` and `quarantined`; `said`, a regular
    expression the line matches), and whether its predictions equal the plain batch's, row by row (`same`)."""

    name: str
    files: Files
    code: int = 0
    scored: int = 0
    quarantined: int = 0
    said: str | None = None
    same: bool = True
    options: tuple[str, ...] = field(default=())


BATCHES: list[Batch] = [
    Batch("a batch like the training rows", {"b.csv": text(SCORED_CSV)}, scored=300),
    Batch(
        "a batch that carries the label",
        {"b.csv": text(csv([(f"r{x}", x, c, y) for x, c, y in SCORED], "customer id,age (years),plan.name,y"))},
        scored=300,
    ),
    Batch(
        "a batch with one more column",
        {"b.csv": text(csv([(f"r{x}", x, c, "n") for x, c, _ in SCORED], "customer id,age (years),plan.name,note"))},
        scored=300,
    ),
    Batch(
        "a batch with its columns in another order",
        {"b.csv": text(csv([(c, x, f"r{x}") for x, c, _ in SCORED], "plan.name,age (years),customer id"))},
        scored=300,
    ),
    Batch("a gzip batch", {"b.csv.gz": gzip.compress(text(SCORED_CSV))}, scored=300),
    Batch("a batch with a byte-order mark", {"b.csv": b"\xef\xbb\xbf" + text(SCORED_CSV)}, scored=300),
    Batch(
        "rows that cannot be cleaned are quarantined",
        {"b.csv": text(with_lines(SCORED_CSV, {1: "r1000,1e400,c1", 2: "r1001,5,c2,extra"}))},
        scored=298,
        quarantined=2,
        said=r"298 rows scored .* 2 quarantined",
    ),
    Batch(
        "an empty batch",
        {"b.csv": text("customer id,age (years),plan.name\n")},
        said=r"0 rows scored .*\(the batch has no rows\)",
        same=False,
    ),
    Batch(
        "a batch too small for a drift index",
        {"b.csv": text(csv([(f"r{x}", x, c) for x, c, _ in SCORED[:5]], "customer id,age (years),plan.name"))},
        scored=5,
        said=r"drift: not measured on 5 rows",
        same=False,
    ),
    Batch(
        "a batch without a feature column",
        {"b.csv": text(csv([(f"r{x}", x) for x, _, _ in SCORED], "customer id,age (years)"))},
        code=2,
        said=r"column plan\.name not found",
        same=False,
    ),
    Batch(
        "a drifted batch fails once its rows are written",
        {"b.csv": text(csv([(f"r{x}", x + 5000, c) for x, c, _ in SCORED], "customer id,age (years),plan.name"))},
        code=2,
        scored=300,
        said=r"scored batch drifted from the training rows above scoring\.drift\.fail = 0\.25: age \(years\) \(PSI",
        same=False,
    ),
]
