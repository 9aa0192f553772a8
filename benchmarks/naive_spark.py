"""The baseline a PySpark user writes first: a default SparkSession, CSV with schema inference, a default
ML Pipeline, Spark's evaluator. Same data, same train and test rows, same model family as speedrun.

    python benchmarks/naive_spark.py TRAIN_CSV_FOLDER TEST_CSV_FOLDER [--model logistic_regression|gbt]

Prints one JSON line: {"auc": ...}.
"""

from __future__ import annotations

import json

from baseline import CATEGORICAL, LABEL, NUMERIC, parse_args
from pyspark.ml import Pipeline
from pyspark.ml.classification import GBTClassifier, LogisticRegression
from pyspark.ml.evaluation import BinaryClassificationEvaluator
from pyspark.ml.feature import Imputer, OneHotEncoder, StringIndexer, VectorAssembler
from pyspark.sql import SparkSession


def main() -> None:
    args = parse_args(["logistic_regression", "gbt"])

    spark = SparkSession.builder.appName("naive").getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    train = spark.read.csv(args.train, header=True, inferSchema=True)
    test = spark.read.csv(args.test, header=True, inferSchema=True)
    train = train.withColumns({c: train[c].cast("double") for c in NUMERIC})
    test = test.withColumns({c: test[c].cast("double") for c in NUMERIC})

    imputed = [f"{c}_imputed" for c in NUMERIC]
    indexed = [f"{c}_index" for c in CATEGORICAL]
    encoded = [f"{c}_onehot" for c in CATEGORICAL]
    trees = args.model == "gbt"
    stages = [
        StringIndexer(inputCol=LABEL, outputCol="label", stringOrderType="alphabetAsc"),
        Imputer(inputCols=NUMERIC, outputCols=imputed, strategy="median"),
        StringIndexer(inputCols=CATEGORICAL, outputCols=indexed, handleInvalid="keep"),
        *([] if trees else [OneHotEncoder(inputCols=indexed, outputCols=encoded)]),
        VectorAssembler(inputCols=imputed + (indexed if trees else encoded), outputCol="features"),
        GBTClassifier() if trees else LogisticRegression(),
    ]
    model = Pipeline(stages=stages).fit(train)
    auc = BinaryClassificationEvaluator().evaluate(model.transform(test))
    print(json.dumps({"auc": auc}))
    spark.stop()


if __name__ == "__main__":
    main()
