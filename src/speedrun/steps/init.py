"""`speedrun init DATA --label COLUMN`: a first config, written for you from a sample of the file (`sample`).

Every guess is printed with its reason, and written as a comment beside its key; the config trains as it is
(`speedrun run --config FILE`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from speedrun.config import load_config
from speedrun.edges.files import data_files, looks_like
from speedrun.edges.sample import (
    Guess,
    classes_of,
    column_kinds,
    guess_columnar,
    guess_csv,
    nulls_seen,
    rarer_share,
    repeated_rows,
)
from speedrun.errors import SpeedrunError
from speedrun.progress import say


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
        *imbalance_lines(rarer_share(guess, label)),
    ]
    return "\n".join(lines) + "\n"


def imbalance_lines(share: float | None) -> list[str]:
    """For a label whose rarer class is under a fifth of the sample: balanced class weights and a threshold
    chosen on the validation rows for the best F1 of the positive class."""
    if share is None:
        return []
    return [
        f"train:   # the positive class is {share:.1%} of the sample: weigh classes, choose a threshold on validation",
        "  class_weight: balanced",
        "  threshold: {optimize: f1}   # or {recall_at_precision: 0.9}, or a fixed number such as 0.5",
    ]


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
    if (share := rarer_share(guess, column)) is not None:
        say(
            f"init      label {column} is imbalanced ({classes[1]} is {share:.1%} of the sample): wrote "
            "train.class_weight: balanced and train.threshold: {optimize: f1}"
        )
    if repeats := repeated_rows(guess):
        say(
            f"init      {repeats:,} of the {len(guess.rows):,} sampled rows repeat another row exactly: a row and its "
            "repeats are kept in one split, so no test row is also a training row (a random split would let "
            "them leak, and score higher)"
        )
    say(f"init      wrote {target}: train with `speedrun run --config {target}`")
    return target
