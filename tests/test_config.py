"""Config: one typed object from YAML; every mistake is an error that names the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from speedrun.config import load_config, relative_to
from speedrun.errors import SpeedrunError


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "conf.yml"
    path.write_text(text)
    return str(path)


def test_packaged_default_config_loads() -> None:
    # WHEN the packaged default config is loaded by name
    cfg = load_config("default")
    # THEN it is the built-in churn dataset with a seeded split
    assert cfg.name == "churn"
    assert cfg.columns.label.classes == ["no", "yes"]
    assert cfg.split.seed == 42
    assert cfg.storage.catalog is None


def test_override_sets_any_nested_key_with_its_type() -> None:
    # WHEN keys are overridden on the command line
    cfg = load_config("default", ["model.max_iter=7", "split.seed=3", "storage.catalog=main", "features.scale=true"])
    # THEN each value is parsed to the key's type
    assert cfg.model.max_iter == 7
    assert cfg.split.seed == 3
    assert cfg.storage.catalog == "main"
    assert cfg.features.scale is True


def test_misspelt_key_in_file_is_named(tmp_path: Path) -> None:
    # GIVEN a config with a typo in a nested key
    path = write(
        tmp_path,
        "columns:\n  label: {column: y, classes: [a, b]}\n  numeric: [x]\nmodel: {type: gbt, max_itr: 5}\n",
    )
    # WHEN it is loaded THEN the error names the file and the misspelt key
    with pytest.raises(SpeedrunError, match=r"conf\.yml.*model\.max_itr: unknown key"):
        load_config(path)


def test_misspelt_override_is_named() -> None:
    with pytest.raises(SpeedrunError, match=r"split\.sed: unknown key"):
        load_config("default", ["split.sed=1"])


def test_wrong_type_is_named_with_the_value() -> None:
    with pytest.raises(SpeedrunError, match=r"model\.max_iter: .*integer.*'many'"):
        load_config("default", ["model.max_iter=many"])


def test_unknown_model_type_lists_the_choices() -> None:
    with pytest.raises(SpeedrunError, match=r"model: unknown model type 'svm'; choose one of logistic_regression"):
        load_config("default", ["model={type: svm}"])


def test_fractions_must_sum_to_one() -> None:
    with pytest.raises(SpeedrunError, match=r"split: .*must be 1, got 1.1"):
        load_config("default", ["split.train=0.8"])


def test_table_names_cannot_carry_sql() -> None:
    with pytest.raises(SpeedrunError, match=r"storage\.schema: .*not a plain identifier"):
        load_config("default", ["storage.schema=x; DROP TABLE y"])


def test_missing_config_file_is_named() -> None:
    with pytest.raises(SpeedrunError, match=r"config file not found: nope\.yml"):
        load_config("nope.yml")


def test_malformed_override_is_explained() -> None:
    with pytest.raises(SpeedrunError, match=r"--set expects key=value, got 'model.max_iter'"):
        load_config("default", ["model.max_iter"])


def test_digest_changes_with_any_value() -> None:
    assert load_config("default").digest() == load_config("default").digest()
    assert load_config("default").digest() != load_config("default", ["split.seed=1"]).digest()


def test_key_of_another_model_type_says_which_type() -> None:
    with pytest.raises(SpeedrunError, match=r"model\.reg_param: unknown key for model type random_forest"):
        load_config("default", ["model.type=random_forest"])


def test_a_config_files_dot_paths_are_relative_to_the_file(tmp_path: Path, monkeypatch) -> None:
    # GIVEN a config file in its own folder naming its data with ./ and ../, read from another folder
    (tmp_path / "project" / "conf").mkdir(parents=True)
    config = tmp_path / "project" / "conf" / "mine.yml"
    config.write_text(
        "name: mine\nsource: {path: ./data/train.csv}\ntest_source: {path: ../held_out.csv}\n"
        "columns: {label: {column: y}}\nmodel: {type: logistic_regression}\n"
    )
    monkeypatch.chdir(tmp_path)
    # WHEN it is loaded, with a --set path as well
    cfg = load_config(str(config), ["scoring.path=./new"])
    # THEN the file's paths are relative to its folder; the command line's stay relative to where you are
    assert cfg.source.path == str(tmp_path / "project" / "conf" / "data" / "train.csv")
    assert cfg.test_source.path == str(tmp_path / "project" / "held_out.csv")
    assert cfg.storage.resolve(cfg.scoring.path) == str(tmp_path / "new")


def test_a_workspace_files_paths_are_read_by_spark_as_files() -> None:
    # a config synced by a bundle lives in /Workspace/...; Spark on Databricks takes a bare path for DBFS
    data = {"source": {"path": "./adult/adult.data"}}
    relative_to(Path("/Workspace/Users/someone/.bundle/speedrun/dev/files/examples"), data)
    assert (
        data["source"]["path"] == "file:/Workspace/Users/someone/.bundle/speedrun/dev/files/examples/adult/adult.data"
    )


def test_a_file_that_is_not_yaml_is_one_line_naming_it_and_where(tmp_path: Path) -> None:
    # GIVEN a config whose list is never closed
    path = write(tmp_path, "name: churn\nsplit: {seed: [1, 2\n")
    # WHEN it is loaded THEN the error names the file and the line where the YAML breaks, on one line
    with pytest.raises(SpeedrunError) as raised:
        load_config(path)
    assert str(raised.value).startswith(f"{path} is not valid YAML: ") and "line 3" in str(raised.value)
    assert "\n" not in str(raised.value)
