"""A rerun on unchanged raw files and data config trains on the silver its last run made; anything else redoes
ingest and prepare."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from conftest import small_config

import speedrun
from speedrun.cli import main
from speedrun.code import code_hash
from speedrun.config import load_config
from speedrun.edges.files import data_files
from speedrun.edges.up_to_date import earlier_run, inputs_fingerprint, kept_silver
from speedrun.flow import run_pipeline
from speedrun.progress import jobs_so_far


def raw_file(cfg) -> str:
    return data_files(cfg.storage.resolve(cfg.source.path))[0]


def test_the_fingerprint_follows_the_files_and_the_data_config_not_the_model(tmp_path: Path) -> None:
    # GIVEN a config whose source file exists
    raw = tmp_path / "raw" / "data.csv"
    raw.parent.mkdir()
    raw.write_text("customer_id,age,churned\n1,30,no\n2,40,yes\n")
    base = [f"storage.work_dir={tmp_path}", "source.path=raw/data.csv", "source.generate_if_missing=null"]
    fingerprint = inputs_fingerprint(load_config("default", base))
    # WHEN only the model, the features or the tracking change, THEN the fingerprint stays
    for change in ("model.reg_param=0.5", "features.scale=true", "tracking.enabled=false"):
        assert inputs_fingerprint(load_config("default", [*base, change])) == fingerprint, change
    # WHEN the split, the cleaning or the columns change, THEN it changes
    for change in ("split.seed=7", "prepare.max_quarantined_fraction=0.5", "columns.exclude=[age]"):
        assert inputs_fingerprint(load_config("default", [*base, change])) != fingerprint, change
    # WHEN the file is rewritten (another modification time), THEN it changes
    os.utime(raw, ns=(raw.stat().st_atime_ns, raw.stat().st_mtime_ns + 1_000_000))
    assert inputs_fingerprint(load_config("default", base)) != fingerprint
    # WHEN the source is remote (not listed without Spark), THEN there is none: the run does everything
    assert inputs_fingerprint(load_config("default", [*base, "source.path=s3://bucket/data.csv"])) is None


def test_a_repeated_run_is_known_without_a_spark_job_and_another_model_is_not(spark, trained) -> None:
    # GIVEN the shared run, evaluated on a silver still up to date
    cfg, evaluation = trained
    kept = kept_silver(spark, cfg, inputs_fingerprint(cfg))
    # WHEN a rerun with the same config looks for a run it would only repeat
    before = jobs_so_far()
    earlier = earlier_run(spark, cfg, kept)
    # THEN it finds the shared run, with its metrics file, and launched no Spark job to find it
    assert jobs_so_far() == before
    assert earlier is not None and earlier.record.run_id == evaluation.report["run_id"]
    assert earlier.metrics_path.is_file() and earlier.record.train_rows == evaluation.report["rows"]["train"]
    # AND with one model key changed there is none: split, train and evaluate run
    other = small_config(Path(cfg.storage.work_dir), "model.reg_param=0.3")
    assert other.digest() != cfg.digest() and earlier_run(spark, other, kept) is None


@pytest.mark.e2e
def test_a_rerun_with_another_model_trains_on_the_same_silver(spark, make_config, capsys) -> None:
    # GIVEN a complete run on a generated file
    first = run_pipeline(spark, make_config())
    capsys.readouterr()
    # WHEN the run is repeated with another model
    second = run_pipeline(spark, make_config("model.reg_param=0.01"))
    # THEN ingest and prepare say they are up to date, and the run trains on the same table versions and rows
    err = capsys.readouterr().err
    assert "ingest    done in" in err and "up to date: bronze v0 holds the raw files as they are now" in err
    assert "up to date: silver v0 was cleaned from it with this config" in err
    assert second.report["inputs"] == first.report["inputs"]
    assert second.report["rows"] == first.report["rows"]
    assert second.report["model"]["params"] != first.report["model"]["params"]
    # WHEN the split changes, THEN ingest and prepare run again: new versions of bronze and silver
    third = run_pipeline(spark, make_config("split.seed=7"))
    assert (third.report["inputs"]["bronze"], third.report["inputs"]["silver"]) == (1, 1)
    assert "up to date" not in capsys.readouterr().err


@pytest.mark.e2e
def test_a_changed_file_or_fresh_reads_the_raw_files_again(tmp_path: Path, overrides_for, make_config, capsys) -> None:
    # GIVEN a complete run of the command
    settings = [arg for o in overrides_for(tmp_path) for arg in ("--set", o)]
    assert main(["run", *settings]) == 0
    cfg = make_config()
    # WHEN the raw file is touched, THEN the next run ingests and prepares it again
    raw = Path(raw_file(cfg))
    os.utime(raw, ns=(raw.stat().st_atime_ns, raw.stat().st_mtime_ns + 1_000_000))
    capsys.readouterr()
    assert main(["run", *settings]) == 0
    assert "up to date" not in capsys.readouterr().err
    # WHEN nothing changed, THEN the next run is up to date, every step: it repeats the last run, unless --fresh
    assert main(["run", *settings]) == 0
    out, err = capsys.readouterr()
    last = re.search(r"^run (\S+):", out, re.M).group(1)
    assert "up to date: bronze v1" in err
    assert f"up to date: run {last} was trained on silver v1 with this config and this code (--fresh trains" in err
    assert f"up to date: run {last}'s test metrics" in err
    first, second = tmp_path / "out" / "m1.json", tmp_path / "out" / "m2.json"
    assert main(["run", "--fresh", "--metrics-out", str(first), *settings]) == 0
    err = capsys.readouterr().err
    assert "up to date" not in err and "bronze v2" in err
    # AND WHEN the run is asked for its metrics elsewhere THEN it is up to date all the same, and writes them there
    assert main(["run", "--metrics-out", str(second), *settings]) == 0
    assert "up to date: run " in capsys.readouterr().err
    assert second.read_text() == first.read_text()


def test_the_code_is_known_by_its_content_not_by_when_its_files_were_written(tmp_path: Path) -> None:
    # GIVEN a copy of speedrun's modules, as a fresh clone or another install would have them
    copy = tmp_path / "speedrun"
    shutil.copytree(Path(speedrun.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    # WHEN a module's file is written again unchanged THEN the code is the same code
    module = copy / "transforms" / "columns.py"
    module.write_text(module.read_text())
    assert code_hash(copy) == code_hash()
    # AND WHEN a module changes THEN it is other code (the server is replaced, silver is cleaned again)
    module.write_text(module.read_text() + "\n# changed\n")
    assert code_hash(copy) != code_hash()
