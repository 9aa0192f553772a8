"""What a sample of a data file says about it, each guess with its reason: a CSV file's dialect (delimiter, quote,
header, encoding) by the standard library's sniffer, a Parquet or JSON-lines file's columns by its own schema;
then each column's kind (numeric, categorical or id), the missing-value tokens, and the label's classes."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field

from speedrun.config import normalize_label
from speedrun.errors import SpeedrunError

SAMPLE_BYTES = 256 * 1024


NULL_TOKENS = ("?", "NA", "N/A", "na", "n/a", "null", "NULL", "None", "-")


ENCODINGS = ("utf-8", "utf-8-sig", "cp1252", "latin-1")


@dataclass
class Guess:
    """What was guessed about the data, and why (the comments of the config)."""

    format: str
    names: list[str]
    rows: list[list[str]]
    header: bool = True
    delimiter: str = ","
    quote: str = '"'
    encoding: str = "UTF-8"
    reasons: dict[str, str] = field(default_factory=dict)


def read_text_sample(file: str) -> tuple[str, str]:
    """The file's first bytes as text, and the first encoding of ENCODINGS that reads them."""
    with open(file, "rb") as stream:
        raw = stream.read(SAMPLE_BYTES)
    for encoding in ENCODINGS:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        return text.rsplit("\n", 1)[0] if len(raw) == SAMPLE_BYTES else text, encoding
    raise SpeedrunError(f"{file}: cannot tell its text encoding")


def first_line_names_columns(lines: list[list[str]], text: str) -> bool:
    """Whether the first line is a header: none of its values is a number where a column holds numbers on every
    other sampled line of its length (missing values aside); without such a column, the standard library's
    sniffer decides (it sniffs the delimiter again by itself, so it is not asked where a number column tells)."""
    first, rest = lines[0], [line for line in lines[1:] if len(line) == len(lines[0])]

    def given(i: int) -> list[str]:  # column i's values on the other lines, missing ones aside
        return [v for line in rest if (v := line[i].strip()) not in ("", *NULL_TOKENS)]

    numeric = [i for i in range(len(first)) if given(i) and all(is_number(v) for v in given(i))]
    if numeric:
        return not any(is_number(first[i].strip()) for i in numeric)
    return csv.Sniffer().has_header(text[:65536])


def guess_csv(file: str) -> Guess:
    text, encoding = read_text_sample(file)
    try:
        dialect = csv.Sniffer().sniff(text[:65536], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    lines = list(csv.reader(io.StringIO(text), delimiter=dialect.delimiter, quotechar=dialect.quotechar or '"'))
    lines = [line for line in lines if line]
    header = first_line_names_columns(lines, text) if len(lines) > 1 else True
    width = len(lines[0]) if lines else 0
    names = [n.strip() for n in lines[0]] if header else [f"c{i + 1}" for i in range(width)]
    guess = Guess("csv", names, lines[1:] if header else lines, header, dialect.delimiter, dialect.quotechar or '"')
    guess.encoding = "UTF-8" if encoding.startswith("utf-8") else encoding
    guess.reasons["delimiter"] = f"{dialect.delimiter!r} splits every sampled line into {width} fields"
    guess.reasons["header"] = "the first line reads as names" if header else "the first line reads as data"
    return guess


def guess_columnar(file: str, fmt: str) -> Guess:
    """A Parquet or JSON-lines file: its own column names, and a sample of its values as text."""
    if fmt == "json":
        with open(file, encoding="utf-8", errors="replace") as lines:
            records = [r for _, line in zip(range(2000), lines, strict=False) if (r := json_record(line)) is not None]
        names = list(dict.fromkeys(k for r in records for k in r))
        rows = [["" if r.get(n) is None else str(r.get(n)) for n in names] for r in records]
        return Guess("json", names, rows)
    import pyarrow.parquet as pq

    table = pq.ParquetFile(file).read_row_group(0).slice(0, 2000)
    names = table.column_names
    columns = [table.column(n).to_pylist() for n in names]
    rows = [["" if v is None else str(v) for v in values] for values in zip(*columns, strict=True)]
    return Guess("parquet", names, rows)


def json_record(line: str) -> dict | None:
    """A JSON line's record; None for a blank line or one that is not a record (run quarantines it)."""
    import json

    try:
        record = json.loads(line) if line.strip() else None
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def nulls_seen(guess: Guess) -> list[str]:
    """The missing-value tokens the sample holds (the empty value always counts as missing)."""
    seen = Counter(value.strip() for row in guess.rows for value in row)
    return ["", *[token for token in NULL_TOKENS if seen[token]]]


def column_kinds(guess: Guess, label: str, nulls: list[str]) -> dict[str, tuple[str, str]]:
    """Each column but the label: numeric, categorical or id, with the reason."""
    kinds = {}
    for i, name in enumerate(guess.names):
        if name == label:
            continue
        values = [row[i].strip() for row in guess.rows if i < len(row) and row[i].strip() not in nulls]
        numeric = bool(values) and all(is_number(v) for v in values)
        distinct = len(set(values))
        named_id = re.search(r"(^|[_\s-])(id|key|uuid)$|^id([_\s-]|$)", name, re.IGNORECASE) is not None
        if named_id and distinct == len(values) and values:
            kinds[name] = ("id", f"named like an id, and every sampled value is different ({distinct:,})")
        elif not numeric and len(values) >= 20 and distinct == len(values):
            kinds[name] = ("id", f"text with a different value in each of the {distinct:,} sampled rows")
        elif numeric:
            kinds[name] = ("numeric", f"all {len(values):,} sampled values are numbers")
        else:
            kinds[name] = ("categorical", f"{distinct:,} distinct values in the sample, not all numbers")
    return kinds


def label_counts(guess: Guess, label: str) -> Counter:
    """Rows of the sample per (normalized) label value."""
    i = guess.names.index(label)
    return Counter(normalize_label(row[i]) for row in guess.rows if i < len(row) and row[i].strip())


def repeated_rows(guess: Guess) -> int:
    """The sampled rows that repeat an earlier sampled row field for field."""
    return len(guess.rows) - len({tuple(v.strip() for v in row) for row in guess.rows})


IMBALANCED = 0.2  # two classes, the rarer under this share of the sample: weigh classes, choose a threshold


def rarer_share(guess: Guess, label: str) -> float | None:
    """The rarer class's share of the sample when the label has two classes and it is under `IMBALANCED`."""
    counts = label_counts(guess, label)
    share = min(counts.values()) / sum(counts.values()) if len(counts) == 2 else None
    return share if share is not None and share < IMBALANCED else None


def classes_of(guess: Guess, label: str) -> tuple[list[str], str | None, str]:
    """The label's classes in the sample (in class-index order: numbers in numeric order, else alphabetical; for
    two, the positive one last), a positive class for two (the rarer one), and why."""
    counts = label_counts(guess, label)
    if len(counts) < 2:
        raise SpeedrunError(f"label {label} has {len(counts)} value(s) in the sample: a classifier needs two classes")
    classes = sorted(counts, key=lambda c: (not is_number(c), float(c) if is_number(c) else 0.0, c))
    if len(classes) != 2:
        return classes, None, f"{len(classes)} classes in the sample"
    positive = min(classes, key=lambda c: (counts[c], classes.index(c)))
    classes = [c for c in classes if c != positive] + [positive]  # class index 1: the one the metrics are of
    return classes, positive, f"the rarer of the two in the sample ({counts[positive]:,} of {sum(counts.values()):,})"
