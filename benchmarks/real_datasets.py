"""`speedrun init FILE --label last` then `speedrun tune` with the default search, as a user runs them, on the public
datasets scikit-learn ships, written as header-less CSV files (`tests/packaged_datasets.py`: breast cancer, wine,
digits, and digits' nines as a rare positive class); against scikit-learn's HistGradientBoosting and logistic
regression fitted on the train rows of speedrun's own split and scored on its test rows.

    python benchmarks/real_datasets.py [--out benchmarks/results/real_datasets.json]

Its files, tables and runs are in a temporary folder, removed at the end (`--work FOLDER` keeps them there).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from packaged_datasets import DATASETS, scikit_learn_on, write_csv  # noqa: E402

from speedrun.cli import main as speedrun  # noqa: E402
from speedrun.config import load_config  # noqa: E402
from speedrun.edges.session import get_spark  # noqa: E402
from speedrun.edges.tables import read_split  # noqa: E402
from speedrun.transforms.columns import LABEL  # noqa: E402
from speedrun.transforms.contract import contract_of  # noqa: E402
from speedrun.transforms.splits import SPLITS  # noqa: E402


def compare(spark, name: str, work: Path) -> dict:
    """init then tune on the dataset's file, in `work/<name>`; the test metrics beside scikit-learn's."""
    folder = work / name
    shutil.rmtree(folder, ignore_errors=True)
    config, metrics = folder / f"{name}.yml", folder / "metrics.json"
    assert (
        speedrun(
            ["--no-server", "init", str(write_csv(name, folder / "data")), "--label", "last", "--output", str(config)]
        )
        == 0
    )
    started = time.perf_counter()
    setting = f"storage.work_dir={folder / 'work'}"
    assert (
        speedrun(["--no-server", "tune", "--config", str(config), "--set", setting, "--metrics-out", str(metrics)]) == 0
    )
    seconds = time.perf_counter() - started
    report = json.loads(metrics.read_text())
    rows = {s: read_split(spark, load_config(str(config), [setting]), s) for s in SPLITS}
    features = contract_of(rows["train"]).features
    theirs = scikit_learn_on({s: r.select(*features, LABEL).toPandas() for s, r in rows.items()}, LABEL)
    return {
        "rows": report["rows"],
        "speedrun_model": report["model"]["type"],
        "speedrun_tune_seconds": round(seconds, 1),
        **{f"speedrun_{k}": round(v, 4) for k, v in report["metrics"].items()},
        **{f"sklearn_{k}": v for k, v in theirs.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", default=None)
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results/real_datasets.json"))
    args = parser.parse_args()
    spark = get_spark("speedrun-real-datasets")
    work = Path(args.work or tempfile.mkdtemp(prefix="speedrun-real-datasets-"))
    try:
        results = {name: compare(spark, name, work) for name in DATASETS}
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    for name, r in results.items():
        auc = (
            f"AUC {r['speedrun_areaUnderROC']:.4f} / hgb {r['sklearn_hgb_auc']:.4f}"
            if "speedrun_areaUnderROC" in r
            else ""
        )
        f1 = (
            f"  F1 {r['speedrun_f1']:.4f} / balanced lr {r['sklearn_balanced_lr_f1']:.4f}"
            if "sklearn_balanced_lr_f1" in r
            else ""
        )
        print(
            f"{name:<14} {r['speedrun_model']:<20} {r['speedrun_tune_seconds']:5.1f}s  accuracy "
            f"{r['speedrun_accuracy']:.4f} / hgb {r['sklearn_hgb_accuracy']:.4f}  {auc}{f1}"
        )


if __name__ == "__main__":
    main()
