"""`speedrun init`: a first config written from a sample of the file, which trains as it is."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests_support import alone, write

from speedrun.cli import main
from speedrun.config import Config, load_config
from speedrun.edges.sample import guess_csv
from speedrun.errors import SpeedrunError
from speedrun.flow import run_pipeline
from speedrun.steps.ingest import ingest
from speedrun.steps.init import init
from speedrun.steps.prepare import prepare


def rows(n: int, line) -> str:
    return "".join(line(i) for i in range(n))


FILES = {
    # header-less, comma and space separated, `?` for missing, the label last with a trailing dot
    "headerless.data": rows(
        120,
        lambda i: (
            f"{20 + i % 50}, {'?' if i % 17 == 0 else 'abc'[i % 3]}, {i * 7 % 13}, "
            f"{'>50K.' if i % 4 == 0 else '<=50K.'}\n"
        ),
    ),
    # semicolon separated with a header, decimal numbers, NA for missing
    "semicolon.csv": "id;amount;kind;label\n"
    + rows(120, lambda i: f"R{i};{'NA' if i % 11 == 0 else i * 1.5};{'xy'[i % 2]};{'yes' if i % 3 == 0 else 'no'}\n"),
    # quoted values holding the delimiter
    "quoted.csv": "name,score,city,churned\n"
    + rows(120, lambda i: f'"Doe, J{i}",{i % 9},"{"Paris, FR" if i % 2 else "Rome, IT"}",{i % 3 == 0}\n'),
}


@pytest.mark.parametrize(
    ("file", "label", "expected"),
    [
        ("headerless.data", "last", {"header": False, "delimiter": ",", "label": "c4", "nulls": ["", "?"]}),
        ("semicolon.csv", "label", {"header": True, "delimiter": ";", "label": "label", "nulls": ["", "NA"]}),
        ("quoted.csv", "4", {"header": True, "delimiter": ",", "label": "churned", "nulls": [""]}),
    ],
)
def test_init_guesses_the_layout_and_writes_a_config_that_loads(tmp_path: Path, file, label, expected, capsys) -> None:
    # GIVEN a data file of one of the layouts real files have
    data = write(tmp_path / "data" / file, FILES[file])
    # WHEN init is run on it
    target = init(data, label, str(tmp_path / "conf" / "mine.yml"))
    # THEN the config loads, names the data relative to itself, and holds what a person would have written
    cfg = load_config(str(target))
    assert cfg.source.path == str(Path(data).resolve())
    assert (cfg.source.header, cfg.source.delimiter) == (expected["header"], expected["delimiter"])
    assert cfg.columns.label.column == expected["label"]
    assert cfg.source.null_values == expected["nulls"]
    assert len(cfg.columns.label.classes) == 2
    # AND it said what it guessed and why
    err = capsys.readouterr().err
    assert "init      wrote" in err and "label " in err


def test_init_finds_numbers_categories_ids_and_the_rarer_class(tmp_path: Path) -> None:
    data = write(tmp_path / "semicolon.csv", FILES["semicolon.csv"])
    cfg = load_config(str(init(data, "label", str(tmp_path / "c.yml"))))
    assert (cfg.columns.id, cfg.columns.numeric, cfg.columns.categorical) == ("id", ["amount"], ["kind"])
    assert (cfg.columns.label.classes, cfg.columns.label.positive) == (["no", "yes"], "yes")


def test_init_refuses_to_overwrite_and_names_an_unknown_label(tmp_path: Path, capsys) -> None:
    data = write(tmp_path / "semicolon.csv", FILES["semicolon.csv"])
    (tmp_path / "taken.yml").write_text("mine\n")
    assert main(["init", data, "--label", "label", "--output", str(tmp_path / "taken.yml")]) == 2
    assert "taken.yml exists: speedrun init does not overwrite a file" in capsys.readouterr().err
    assert (tmp_path / "taken.yml").read_text() == "mine\n"
    with pytest.raises(SpeedrunError, match=r"--label target: no such column; the columns are id, amount, kind, label"):
        init(data, "target", str(tmp_path / "new.yml"))


def config_written_by_init(tmp_path: Path, file: str, monkeypatch) -> Config:
    """A config written by init for `file`, in another folder than the one speedrun then runs in."""
    data = write(tmp_path / "data" / file, FILES[file])
    target = init(data, "last", str(tmp_path / "conf" / "mine.yml"))
    monkeypatch.chdir(tmp_path)
    return load_config(str(target))


@pytest.mark.e2e
@pytest.mark.parametrize("file", sorted(FILES))
def test_the_written_config_reads_every_row_unchanged(spark, tmp_path: Path, file, monkeypatch) -> None:
    # GIVEN a config written by init for each kind of file
    cfg = config_written_by_init(tmp_path, file, monkeypatch)
    # WHEN it is ingested and prepared as it is THEN every row is accounted for, in silver or quarantine
    alone(ingest, spark, cfg)
    prepared = alone(prepare, spark, cfg)
    assert prepared.accepted + prepared.quarantined == 120 and prepared.accepted > 0


@pytest.mark.e2e
def test_the_written_config_trains_unchanged(spark, tmp_path: Path, monkeypatch) -> None:
    # GIVEN a config written by init for the hardest file (no header, `?` for missing, labels with a dot)
    cfg = config_written_by_init(tmp_path, "headerless.data", monkeypatch)
    # WHEN it is run as it is THEN it trains and evaluates, every row accounted for
    evaluation = run_pipeline(spark, cfg)
    assert sum(evaluation.report["rows"].values()) == 120
    assert 0.0 <= evaluation.report["metrics"]["areaUnderROC"] <= 1.0


def test_a_header_over_a_number_column_is_a_header_whatever_the_other_values(tmp_path: Path) -> None:
    # GIVEN short names over a number column and values that start with a letter of a name (the standard library's
    # sniffer, sniffing the delimiter again on its own, splits these on `c`), and a first data line with a field more
    body = "".join(f"{i},c{i % 3},{'yes' if i % 2 else 'no'}\n" for i in range(1, 60))
    path = tmp_path / "d.csv"
    path.write_text("x,c,y\n0,c0,no,extra\n" + body)
    # WHEN init guesses the layout THEN the first line is the header
    guess = guess_csv(str(path))
    assert (guess.header, guess.names, guess.delimiter) == (True, ["x", "c", "y"], ",")
    # AND a file without a header (a number on its first line) is still read as one without
    (tmp_path / "n.csv").write_text(body)
    assert guess_csv(str(tmp_path / "n.csv")).header is False


def test_the_rarer_class_is_the_positive_one_in_class_index_order_too(tmp_path: Path) -> None:
    # GIVEN a label whose rarer class sorts first (fraud before ok)
    rows = "".join(f"{i},{'fraud' if i % 10 == 0 else 'ok'}\n" for i in range(100))
    data = write(tmp_path / "d.csv", "amount,label\n" + rows)
    # WHEN init writes the config THEN the rarer class is the positive one, and class index 1, which the metrics,
    # the class weights and the threshold are of
    cfg = load_config(str(init(data, "label", str(tmp_path / "c.yml"))))
    assert (cfg.columns.label.classes, cfg.columns.label.positive) == (["ok", "fraud"], "fraud")


def test_init_says_how_many_sampled_rows_repeat_another(tmp_path: Path, capsys) -> None:
    # GIVEN a file of 40 rows, 10 of which repeat another row exactly (spaces around a value aside)
    body = "".join(
        f"{i % 30}, {'ab'[i % 2]}, {'yn'[i % 3 == 0]}\n" if i < 30 else f"{i % 30},{'ab'[i % 2]},{'yn'[i % 3 == 0]}\n"
        for i in range(40)
    )
    data = write(tmp_path / "repeats.csv", body)
    # WHEN init writes its config THEN a line says how many repeat, and that they stay in one split
    init(data, "last", str(tmp_path / "c.yml"))
    assert (
        "init      10 of the 40 sampled rows repeat another row exactly: a row and its repeats are kept in one "
        "split, so no test row is also a training row (a random split would let them leak, and score higher)"
    ) in capsys.readouterr().err
    # AND nothing is said of a file without repeats
    init(write(tmp_path / "once.csv", body[: body.index("0,a")]), "last", str(tmp_path / "d.yml"))
    assert "repeat another row" not in capsys.readouterr().err
