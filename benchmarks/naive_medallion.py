"""The fair peer: what a Databricks ML engineer writes by hand for the same job, as a notebook would run it. The
CSV files to a bronze Delta table, cast into a silver Delta table (the given test file likewise), the same Spark
ML pipeline, the test rows scored with Spark's evaluator, the model logged with `mlflow.spark.log_model` to a local
store. No speedrun code.

    python benchmarks/naive_medallion.py TRAIN_CSV_FOLDER TEST_CSV_FOLDER [--model logistic_regression|gbt]

Prints one JSON line: {"auc": ...}.
"""

from __future__ import annotations

import json
import tempfile
from importlib.metadata import version

import mlflow
import mlflow.spark
from baseline import CATEGORICAL, LABEL, NUMERIC, naive_stages, parse_args
from pyspark.ml import Pipeline
from pyspark.ml.evaluation import BinaryClassificationEvaluator
from pyspark.sql import SparkSession
from pyspark.sql import functions as F


def main() -> None:
    args = parse_args(["logistic_regression", "gbt"])
    delta = version("delta-spark")
    spark = (
        SparkSession.builder.appName("naive-medallion")
        .config("spark.jars.packages", f"io.delta:delta-spark_2.13:{delta},io.delta:delta-storage:{delta}")
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    work = tempfile.mkdtemp(prefix="naive-medallion-")

    # bronze: the files as read, with where and when
    for name, path in (("train", args.train), ("test", args.test)):
        raw = spark.read.csv(path, header=True).withColumn("_ingested_at", F.current_timestamp())
        raw.withColumn("_source_file", F.col("_metadata.file_path")).write.format("delta").save(f"{work}/bronze_{name}")

    # silver: typed rows with a label
    for name in ("train", "test"):
        bronze = spark.read.format("delta").load(f"{work}/bronze_{name}")
        typed = bronze.select(
            *[F.col(c).cast("double").alias(c) for c in NUMERIC],
            *CATEGORICAL,
            F.col(LABEL),
        ).where(F.col(LABEL).isNotNull())
        typed.write.format("delta").save(f"{work}/silver_{name}")

    # the test rows are the given test file, and every training row trains, as in speedrun's bench config
    # (`split.validation: 0`); with no test file, this would be `silver.randomSplit([0.85, 0.15], seed=42)`
    train = spark.read.format("delta").load(f"{work}/silver_train")
    test = spark.read.format("delta").load(f"{work}/silver_test")

    model = Pipeline(stages=naive_stages(args.model == "gbt")).fit(train)
    auc = BinaryClassificationEvaluator().evaluate(model.transform(test))

    mlflow.set_tracking_uri(f"sqlite:///{work}/mlflow.db")
    if mlflow.get_experiment_by_name("naive-medallion") is None:  # artifacts in the work folder, not in ./mlruns
        mlflow.create_experiment("naive-medallion", artifact_location=f"file://{work}/mlartifacts")
    mlflow.set_experiment("naive-medallion")
    with mlflow.start_run():
        mlflow.log_metric("areaUnderROC", auc)
        mlflow.spark.log_model(model, artifact_path="model")
    print(json.dumps({"auc": auc}))
    spark.stop()


if __name__ == "__main__":
    main()
