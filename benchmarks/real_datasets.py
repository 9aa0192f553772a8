"""`speedrun tune` with the default search against scikit-learn's HistGradientBoostingClassifier, on the real
datasets scikit-learn ships (breast cancer, wine, digits), on the same split: speedrun's own seeded split; both
fit on its train rows (speedrun chooses on its validation rows) and are scored on its test rows with the same
function (scikit-learn's ROC AUC; one-vs-rest, macro-averaged, for more than two classes).

    python benchmarks/real_datasets.py [--work work/real] [--out benchmarks/results/real_datasets.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from sklearn import datasets
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import accuracy_score, roc_auc_score

import speedrun
from speedrun.config import load_config
from speedrun.edges.logged_model import load_model
from speedrun.edges.session import get_spark
from speedrun.edges.tables import read_split
from speedrun.transforms.columns import LABEL, PROBABILITY
from speedrun.transforms.contract import contract_of

ROOT = Path(__file__).resolve().parent.parent
LOADERS = {"breast_cancer": datasets.load_breast_cancer, "wine": datasets.load_wine, "digits": datasets.load_digits}


def write_csv(name: str, folder: Path) -> Path:
    frame = LOADERS[name](as_frame=True).frame
    frame.columns = [str(c).replace(" ", "_") for c in frame.columns]
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_csv(folder / f"{name}.csv", index=False)
    return folder / f"{name}.csv"


def auc(labels: np.ndarray, probabilities: np.ndarray) -> float:
    if probabilities.shape[1] == 2:
        return float(roc_auc_score(labels, probabilities[:, 1]))
    return float(roc_auc_score(labels, probabilities, multi_class="ovr", average="macro"))


def compare(spark, name: str, work: Path) -> dict:
    overrides = [
        f"name={name}",
        f"storage.work_dir={work / name}",
        f"source.path={write_csv(name, work / name / 'raw')}",
        "source.generate_if_missing=null",
        "columns={id: null, label: {column: target}}",
    ]
    started = time.perf_counter()
    evaluation = speedrun.tune(spark, "default", overrides)
    tuned_seconds = time.perf_counter() - started
    cfg = load_config("default", overrides)
    train, test = read_split(spark, cfg, "train"), read_split(spark, cfg, "test")
    features = contract_of(train).features
    scored = load_model(evaluation.report["model"]["path"]).transform(test).select(LABEL, PROBABILITY).toPandas()
    ours = np.vstack(scored[PROBABILITY].map(lambda v: v.toArray()))
    train_pd, test_pd = train.select(*features, LABEL).toPandas(), test.select(*features, LABEL).toPandas()
    started = time.perf_counter()
    hgb = HistGradientBoostingClassifier(random_state=0).fit(train_pd[features], train_pd[LABEL])
    hgb_seconds = time.perf_counter() - started
    theirs = hgb.predict_proba(test_pd[features])
    labels = scored[LABEL].to_numpy()
    return {
        "rows": {"train": len(train_pd), "test": len(test_pd)},
        "classes": ours.shape[1],
        "speedrun_model": evaluation.report["model"]["type"],
        "speedrun_auc": round(auc(labels, ours), 4),
        "sklearn_hgb_auc": round(auc(test_pd[LABEL].to_numpy(), theirs), 4),
        "speedrun_accuracy": round(float(accuracy_score(labels, ours.argmax(axis=1))), 4),
        "sklearn_hgb_accuracy": round(float(accuracy_score(test_pd[LABEL], theirs.argmax(axis=1))), 4),
        "speedrun_tune_seconds": round(tuned_seconds, 1),
        "sklearn_hgb_fit_seconds": round(hgb_seconds, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", default=str(ROOT / "work/real"))
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results/real_datasets.json"))
    args = parser.parse_args()
    spark = get_spark("speedrun-real-datasets")
    results = {name: compare(spark, name, Path(args.work)) for name in LOADERS}
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    for name, r in results.items():
        gap = r["speedrun_auc"] - r["sklearn_hgb_auc"]
        print(
            f"{name:<14} speedrun {r['speedrun_model']:<20} AUC {r['speedrun_auc']:.4f}  "
            f"sklearn-hgb {r['sklearn_hgb_auc']:.4f}  (speedrun - hgb {gap:+.4f})"
        )


if __name__ == "__main__":
    main()
