"""The baseline a PySpark user writes first: a default SparkSession, CSV with schema inference, a default
ML Pipeline, Spark's evaluator. Same data, same train and test rows, same model family as speedrun.

    python benchmarks/naive_spark.py TRAIN_CSV_FOLDER TEST_CSV_FOLDER [--model logistic_regression|gbt]

Prints one JSON line: {"auc": ...}.
"""

from __future__ import annotations

import json

from baseline import NUMERIC, naive_stages, parse_args
from pyspark.ml import Pipeline
from pyspark.ml.evaluation import BinaryClassificationEvaluator
from pyspark.sql import SparkSession


def main() -> None:
    args = parse_args(["logistic_regression", "gbt"])

    spark = SparkSession.builder.appName("naive").getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    train = spark.read.csv(args.train, header=True, inferSchema=True)
    test = spark.read.csv(args.test, header=True, inferSchema=True)
    train = train.withColumns({c: train[c].cast("double") for c in NUMERIC})
    test = test.withColumns({c: test[c].cast("double") for c in NUMERIC})

    model = Pipeline(stages=naive_stages(args.model == "gbt")).fit(train)
    auc = BinaryClassificationEvaluator().evaluate(model.transform(test))
    print(json.dumps({"auc": auc}))
    spark.stop()


if __name__ == "__main__":
    main()
