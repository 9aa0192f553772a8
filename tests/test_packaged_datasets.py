"""The hidden-data check: `speedrun init FILE --label last` then `speedrun tune` with its default search, on public
datasets scikit-learn ships, written as the header-less CSV files a user drops in (`packaged_datasets`), through
the command line's own entry; the tuned model's test metric held against scikit-learn's models fitted on the
train rows of the same split."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from packaged_datasets import scikit_learn_on, write_csv

from speedrun.cli import main
from speedrun.config import load_config
from speedrun.edges.tables import read_split
from speedrun.transforms.columns import LABEL
from speedrun.transforms.contract import contract_of
from speedrun.transforms.splits import SPLITS

pytestmark = pytest.mark.e2e

# name -> the tuned model's test metric, scikit-learn's it is held against, and how far below it may fall: their
# test splits are small (40 to 250 rows), one row of wine's is 0.025 of accuracy. Ten-class digits, the slowest
# (a minute in this suite), is in `benchmarks/real_datasets.py` only.
CASES = {
    "breast_cancer": ("areaUnderROC", "hgb_auc", 0.01),
    "wine": ("accuracy", "hgb_accuracy", 0.04),
    "digits_nine": ("f1", "balanced_lr_f1", 0.05),  # a rare positive class: init weighs classes, chooses a threshold
}


@pytest.mark.parametrize("name", list(CASES))
def test_init_then_tune_reaches_scikit_learns_level_on_a_file_it_never_saw(spark, tmp_path: Path, name: str) -> None:
    # GIVEN a header-less CSV file of a public dataset, the label last
    data = write_csv(name, tmp_path / "data")
    config, work, out = tmp_path / f"{name}.yml", f"storage.work_dir={tmp_path / 'work'}", tmp_path / "metrics.json"
    # WHEN a user writes its config with init, then tunes it with the default search
    assert main(["init", str(data), "--label", "last", "--output", str(config)]) == 0
    assert main(["tune", "--config", str(config), "--set", work, "--metrics-out", str(out)]) == 0
    # THEN its test metric is at scikit-learn's level on the same split, less the margin
    ours = json.loads(out.read_text())["metrics"]
    cfg = load_config(str(config), [work])
    rows = {s: read_split(spark, cfg, s) for s in SPLITS}
    features = contract_of(rows["train"]).features
    theirs = scikit_learn_on({s: r.select(*features, LABEL).toPandas() for s, r in rows.items()}, LABEL)
    metric, reference, margin = CASES[name]
    assert ours[metric] >= theirs[reference] - margin, (ours, theirs)
