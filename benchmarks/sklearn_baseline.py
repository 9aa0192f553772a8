"""scikit-learn on pandas with the preprocessing speedrun does (median imputation; one-hot categories for the
linear model, native categories for the trees), on the same train and test rows.

    python benchmarks/sklearn_baseline.py TRAIN_CSV_FOLDER TEST_CSV_FOLDER [--model logistic_regression|hist_gbt]

Prints one JSON line: {"auc": ...}.
"""

from __future__ import annotations

import glob
import json

import pandas as pd
from baseline import CATEGORICAL, LABEL, NUMERIC, POSITIVE, parse_args
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder


def read(folder: str) -> pd.DataFrame:
    frame = pd.concat(pd.read_csv(path) for path in sorted(glob.glob(f"{folder}/*.csv")))
    for column in CATEGORICAL:
        frame[column] = frame[column].str.strip().astype("category")
    return frame


def main() -> None:
    args = parse_args(["logistic_regression", "hist_gbt"])

    train, test = read(args.train), read(args.test)
    if args.model == "hist_gbt":
        model = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=0)
    else:
        preprocess = ColumnTransformer(
            [
                ("numeric", SimpleImputer(strategy="median"), NUMERIC),
                ("categorical", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
            ]
        )
        model = make_pipeline(preprocess, LogisticRegression(max_iter=100))
    features = NUMERIC + CATEGORICAL
    model.fit(train[features], train[LABEL] == POSITIVE)
    auc = roc_auc_score(test[LABEL] == POSITIVE, model.predict_proba(test[features])[:, 1])
    print(json.dumps({"auc": auc}))


if __name__ == "__main__":
    main()
