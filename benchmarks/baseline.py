"""What both baselines share: the columns of the benchmark's data (those of `bench.yml`, speedrun's side) and
their command line."""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml

COLUMNS = yaml.safe_load((Path(__file__).parent / "bench.yml").read_text())["columns"]
NUMERIC: list[str] = COLUMNS["numeric"]
CATEGORICAL: list[str] = COLUMNS["categorical"]
LABEL: str = COLUMNS["label"]["column"]
POSITIVE: str = COLUMNS["label"]["classes"][-1]


def parse_args(models: list[str]) -> argparse.Namespace:
    """TRAIN_CSV_FOLDER TEST_CSV_FOLDER [--model M]; the first of `models` is the default."""
    parser = argparse.ArgumentParser()
    parser.add_argument("train", help="folder of the training CSV files")
    parser.add_argument("test", help="folder of the test CSV files")
    parser.add_argument("--model", default=models[0], choices=models)
    return parser.parse_args()


def naive_stages(trees: bool) -> list:
    """The Spark ML pipeline both naive Spark contenders write: Spark's defaults, the same preprocessing as
    speedrun's (median imputation, categories indexed, one-hot for the linear model)."""
    from pyspark.ml.classification import GBTClassifier, LogisticRegression
    from pyspark.ml.feature import Imputer, OneHotEncoder, StringIndexer, VectorAssembler

    imputed = [f"{c}_imputed" for c in NUMERIC]
    indexed = [f"{c}_index" for c in CATEGORICAL]
    encoded = [f"{c}_onehot" for c in CATEGORICAL]
    return [
        StringIndexer(inputCol=LABEL, outputCol="label", stringOrderType="alphabetAsc"),
        Imputer(inputCols=NUMERIC, outputCols=imputed, strategy="median"),
        StringIndexer(inputCols=CATEGORICAL, outputCols=indexed, handleInvalid="keep"),
        *([] if trees else [OneHotEncoder(inputCols=indexed, outputCols=encoded)]),
        VectorAssembler(inputCols=imputed + (indexed if trees else encoded), outputCol="features"),
        GBTClassifier() if trees else LogisticRegression(),
    ]
