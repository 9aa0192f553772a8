"""Public datasets that scikit-learn ships, written as the header-less CSV files a user drops in (the label last),
and scikit-learn's own models fitted on speedrun's split of them: what `init` then `tune` is held against on files
the project was never tuned on (`test_packaged_datasets.py`, `benchmarks/real_datasets.py`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn import datasets
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, precision_recall_curve, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

# name -> (loader, the label made of its target): two classes, three, ten, and a rare positive class (the nines)
DATASETS = {
    "breast_cancer": (datasets.load_breast_cancer, None),
    "wine": (datasets.load_wine, None),
    "digits": (datasets.load_digits, None),
    "digits_nine": (datasets.load_digits, lambda y: (y == 9).astype(int)),  # 10% of the rows
}


def write_csv(name: str, folder: Path) -> Path:
    """The dataset as a header-less CSV file, its label the last field."""
    loader, relabel = DATASETS[name]
    features, target = loader(return_X_y=True)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.csv"
    labels = relabel(target) if relabel else target
    np.savetxt(path, np.column_stack([features, labels]), delimiter=",", fmt=["%.6g"] * features.shape[1] + ["%d"])
    return path


def scikit_learn_on(split: dict[str, pd.DataFrame], label: str) -> dict[str, float]:
    """scikit-learn's HistGradientBoosting and logistic regression fitted on the train rows of speedrun's split,
    scored on its test rows: accuracy and AUC (one-vs-rest, macro, for more classes); for two classes also the
    positive class's F1 of a balanced logistic regression at the threshold of the best F1 on validation."""
    features = [c for c in split["train"].columns if c != label]
    x = {name: rows[features].astype(float) for name, rows in split.items()}
    y = {name: rows[label].astype(int) for name, rows in split.items()}
    out = {}
    for name, model in {
        "hgb": HistGradientBoostingClassifier(random_state=0),
        "lr": make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
    }.items():
        probabilities = model.fit(x["train"], y["train"]).predict_proba(x["test"])
        out[f"{name}_accuracy"] = accuracy_score(y["test"], probabilities.argmax(axis=1))
        out[f"{name}_auc"] = auc(y["test"], probabilities)
    if y["train"].nunique() == 2:
        balanced = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, class_weight="balanced"))
        balanced.fit(x["train"], y["train"])
        precision, recall, thresholds = precision_recall_curve(
            y["validation"], balanced.predict_proba(x["validation"])[:, 1]
        )
        f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
        threshold = thresholds[int(np.argmax(f1[:-1]))]
        out["balanced_lr_f1"] = f1_score(y["test"], balanced.predict_proba(x["test"])[:, 1] >= threshold)
    return {k: round(float(v), 4) for k, v in out.items()}


def auc(labels: pd.Series, probabilities: np.ndarray) -> float:
    if probabilities.shape[1] == 2:
        return roc_auc_score(labels, probabilities[:, 1])
    return roc_auc_score(labels, probabilities, multi_class="ovr", average="macro")
