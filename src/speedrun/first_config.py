"""`speedrun init DATA --label COLUMN`: a first config, written for you from a sample of the file.

A CSV file is looked at with the standard library's CSV sniffer (delimiter, quote, header), a Parquet or JSON-lines
file by its own schema. Every guess is printed with its reason, and written as a comment beside its key; the
config trains as it is (`speedrun run --config FILE`).
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from speedrun.config import load_config, normalize_label
from speedrun.errors import SpeedrunError
from speedrun.files import data_files, looks_like
from speedrun.progress import say

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


def guess_csv(file: str) -> Guess:
    text, encoding = read_text_sample(file)
    try:
        dialect = csv.Sniffer().sniff(text[:65536], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    lines = list(csv.reader(io.StringIO(text), delimiter=dialect.delimiter, quotechar=dialect.quotechar or '"'))
    lines = [line for line in lines if line]
    header = csv.Sniffer().has_header(text[:65536]) if len(lines) > 1 else True
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
        import json

        with open(file, encoding="utf-8") as lines:
            records = [json.loads(line) for _, line in zip(range(2000), lines, strict=False) if line.strip()]
        names = list(dict.fromkeys(k for r in records for k in r))
        rows = [["" if r.get(n) is None else str(r.get(n)) for n in names] for r in records]
        return Guess("json", names, rows)
    import pyarrow.parquet as pq

    table = pq.ParquetFile(file).read_row_group(0).slice(0, 2000)
    names = table.column_names
    columns = [table.column(n).to_pylist() for n in names]
    rows = [["" if v is None else str(v) for v in values] for values in zip(*columns, strict=True)]
    return Guess("parquet", names, rows)


def is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def label_column(names: list[str], label: str, header: bool) -> str:
    """`label` as a name, a 1-based column number (a file without a header), or `last`."""
    if label == "last":
        return names[-1]
    if label in names:
        return label
    if label.isdigit() and 1 <= int(label) <= len(names):
        return names[int(label) - 1]
    hint = "" if header else f" (the file has no header: give a column number, 1 to {len(names)}, or `last`)"
    raise SpeedrunError(f"--label {label}: no such column; the columns are {', '.join(names)}{hint}")


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


def classes_of(guess: Guess, label: str) -> tuple[list[str], str | None, str]:
    """The label's classes in the sample, a positive class for two (the rarer one), and why."""
    i = guess.names.index(label)
    counts = Counter(normalize_label(row[i]) for row in guess.rows if i < len(row) and row[i].strip())
    if len(counts) < 2:
        raise SpeedrunError(f"label {label} has {len(counts)} value(s) in the sample: a classifier needs two classes")
    classes = sorted(counts, key=lambda c: (not is_number(c), float(c) if is_number(c) else 0.0, c))
    if len(classes) != 2:
        return classes, None, f"{len(classes)} classes in the sample"
    positive = min(classes, key=lambda c: (counts[c], classes.index(c)))
    return classes, positive, f"the rarer of the two in the sample ({counts[positive]:,} of {sum(counts.values()):,})"


def yaml_value(value: object) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


def render(name: str, source_path: str, guess: Guess, label: str, kinds: dict, classes: tuple, nulls: list) -> str:
    """The config file, each guess commented with its reason."""
    by_kind = {k: [n for n, (kind, _) in kinds.items() if kind == k] for k in ("numeric", "categorical", "id")}
    ids = by_kind["id"]
    lines = [
        f"# Written by `speedrun init` from a sample of {source_path}: every guess below says why; change any.",
        f"name: {name}                      # tables are {name}_bronze, {name}_silver, ...",
        "source:",
        f"  path: {yaml_value(source_path)}   # ./ : relative to this file",
        f"  format: {guess.format}",
    ]
    if guess.format == "csv":
        lines += [
            f"  header: {str(guess.header).lower()}                  # {guess.reasons['header']}",
            f"  delimiter: {yaml_value(guess.delimiter)}             # {guess.reasons['delimiter']}",
            f"  quote: {yaml_value(guess.quote)}",
            f"  encoding: {guess.encoding}",
        ]
        if not guess.header:
            lines.append(f"  column_names: {yaml_value(guess.names)}   # no header: named c1..cN")
    lines += [
        f"  null_values: {yaml_value(nulls)}   # missing-value tokens seen in the sample",
        "  generate_if_missing: null",
        "columns:",
        f"  label: {{column: {yaml_value(label)}, classes: {yaml_value(classes[0])}"
        + (
            f", positive: {yaml_value(classes[1])}}}   # positive: {classes[2]}"
            if classes[1]
            else f"}}   # {classes[2]}"
        ),
        f"  id: {yaml_value(ids[0]) if ids else 'null'}"
        + (f"   # {kinds[ids[0]][1]}" if ids else "   # no column looks like a row id"),
        f"  exclude: {yaml_value(ids[1:])}",
        f"  numeric: {yaml_value(by_kind['numeric'])}",
        f"  categorical: {yaml_value(by_kind['categorical'])}",
        "model: {type: logistic_regression, max_iter: 100}   # or random_forest, gbt: README, Configuration",
    ]
    return "\n".join(lines) + "\n"


def init(data_path: str, label: str, output: str | None = None) -> Path:
    """Write a first config for the data at `data_path` (a file, folder or glob) and say what was guessed."""
    files = data_files(data_path)
    if not files:
        raise SpeedrunError(f"no data file at {data_path}")
    kind = looks_like(files[0])
    fmt = "parquet" if kind == "parquet" else "json" if kind == "json" else "csv"
    if kind in ("gzip", "binary"):
        raise SpeedrunError(f"{files[0]} looks like {kind}: speedrun init reads CSV, Parquet and JSON-lines files")
    guess = guess_csv(files[0]) if fmt == "csv" else guess_columnar(files[0], fmt)
    name = re.sub(r"[^a-z0-9_]", "_", Path(files[0]).stem.lower()).strip("_") or "data"
    name = name if name[0].isalpha() else f"d_{name}"
    target = Path(output or f"{name}.yml")
    if target.exists():
        raise SpeedrunError(f"{target} exists: speedrun init does not overwrite a file (give --output)")
    column = label_column(guess.names, label, guess.header)
    nulls = nulls_seen(guess)
    kinds = column_kinds(guess, column, nulls)
    classes = classes_of(guess, column)
    relative = os.path.relpath(Path(data_path).absolute(), target.absolute().parent)
    source_path = relative if relative.startswith("../") else f"./{relative}"
    text = render(name, source_path, guess, column, kinds, classes, nulls)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    load_config(str(target))  # what was written loads: a wrong guess is for you to change, not a broken file
    say(f"init      {fmt} file {files[0]}: {len(guess.names)} columns, {len(guess.rows):,} rows sampled")
    for reason in (*guess.reasons.values(), *(f"{n}: {k} ({why})" for n, (k, why) in kinds.items())):
        say(f"init        {reason}")
    say(
        f"init      label {column}: classes {', '.join(classes[0])}"
        + (f", positive {classes[1]}" if classes[1] else "")
    )
    say(f"init      wrote {target}: train with `speedrun run --config {target}`")
    return target
