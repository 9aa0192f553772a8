"""The schemas of the tables a run leaves, pinned: silver, each split's rows, the runs and metrics records, and
the predictions of batch scoring. A change to any of them is a change to what users' queries read."""

from __future__ import annotations

from chispa import assert_df_equality
from chispa.schema_comparer import assert_schema_equality
from pyspark.ml.linalg import Vectors, VectorUDT
from pyspark.sql.types import (
    ArrayType,
    DoubleType,
    LongType,
    MapType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from speedrun.edges.tables import Tables, read_split
from speedrun.transforms.contract import Contract, contract_of
from speedrun.transforms.decided_class import decided_class
from speedrun.transforms.scoring import PREDICTION_COLUMNS, predictions

NUMBERS = ("age", "tenure_months", "monthly_charges", "total_charges", "support_calls", "satisfaction_score")
CATEGORIES = ("contract", "internet_service", "payment_method", "region", "signup_channel")
SPLIT_ROWS = StructType(
    [
        StructField("customer_id", StringType()),
        *[StructField(name, DoubleType()) for name in (*NUMBERS, "web_visits")],
        *[StructField(name, StringType()) for name in CATEGORIES],
        StructField("_label", DoubleType()),
        StructField("_row_key", LongType()),
        StructField("_source_file", StringType()),
        StructField("_split", StringType()),
    ]
)
RUNS = StructType(
    [
        *[StructField(name, StringType()) for name in ("run_id", "name", "model_type", "model_params", "model_path")],
        *[StructField(name, StringType()) for name in ("config", "config_hash")],
        *[StructField(f"{name}", LongType()) for name in ("split_seed", "bronze_version", "silver_version")],
        *[StructField(f"{split}_version", LongType()) for split in ("train", "validation", "test")],
        *[StructField(f"{split}_rows", LongType()) for split in ("train", "validation", "test")],
        StructField("validation_metrics", StringType()),
        StructField("started_at", TimestampType()),
        StructField("finished_at", TimestampType()),
        *[StructField(name, StringType()) for name in ("speedrun_version", "spark_version", "git_commit")],
        *[StructField(name, StringType()) for name in ("mlflow_run_id", "target", "registered_model")],
        StructField("model_version", StringType()),
        StructField("threshold", DoubleType()),
        StructField("class_weights", StringType()),
        StructField("code_hash", StringType()),
    ]
)
METRICS = StructType(
    [
        StructField("run_id", StringType()),
        StructField("model_type", StringType()),
        StructField("evaluated_at", TimestampType()),
        StructField("test_rows", LongType()),
        *[
            StructField(name, DoubleType())
            for name in ("areaUnderROC", "areaUnderPR", "accuracy", "precision", "recall", "f1")
        ],
        StructField("confusion_matrix", ArrayType(ArrayType(LongType()))),
        StructField("metrics", StringType()),
    ]
)


def test_silver_and_each_split_have_the_cleaned_typed_columns_and_speedruns_own(spark, trained) -> None:
    # GIVEN the shared run on the default data
    cfg, _ = trained
    # WHEN silver and each split's rows are read
    silver = Tables(cfg).read(spark, "silver")
    splits = {name: read_split(spark, cfg, name) for name in ("train", "validation", "test")}
    # THEN numbers are doubles, categories strings, the label its class index, then speedrun's columns
    assert_schema_equality(silver.schema, SPLIT_ROWS, ignore_nullable=True, ignore_metadata=True)
    for rows in splits.values():
        assert_schema_equality(rows.schema, SPLIT_ROWS, ignore_nullable=True, ignore_metadata=True)
    # AND the label's metadata carries the data contract: which columns are features, and the classes
    contract = contract_of(silver)
    assert (contract.numeric, contract.categorical) == ([*NUMBERS, "web_visits"], list(CATEGORIES))
    assert contract.id == "customer_id" and len(contract.classes) == 2


def test_the_runs_and_metrics_records_have_their_declared_schemas(spark, trained) -> None:
    # GIVEN the shared run, WHEN its records are read back
    cfg, _ = trained
    runs, metrics = (Tables(cfg).read(spark, role) for role in ("training_runs", "metrics"))
    # THEN each has the columns users query, of the types they expect
    assert_schema_equality(runs.schema, RUNS, ignore_nullable=True)
    assert_schema_equality(metrics.schema, METRICS, ignore_nullable=True)


def test_predictions_hold_key_id_class_probabilities_model_and_batch(spark) -> None:
    # GIVEN two rows a model scored, with the row key, the id and Spark ML's prediction and probability
    scored = spark.createDataFrame(
        [(11, "c1", 1.0, Vectors.dense([0.25, 0.75])), (12, "c2", 0.0, Vectors.dense([0.9, 0.1]))],
        StructType(
            [
                StructField("_row_key", LongType()),
                StructField("customer_id", StringType()),
                StructField("_prediction", DoubleType()),
                StructField("_probability", VectorUDT()),
            ]
        ),
    )
    contract = Contract(numeric=["age"], categorical=[], classes=["no", "yes"], id="customer_id")

    # WHEN the model's last stage decides their class and they become predictions of churn_classifier v3, batch b1
    def predicted(threshold: float | None):
        decided = decided_class(contract.classes, threshold, ("_prediction", "_probability")).transform(scored)
        return predictions(decided, contract, ("churn_classifier", "3"), "b1", "_probability")

    result = predicted(None)
    # THEN each row names its class, every class's probability, the model and the batch
    expected = spark.createDataFrame(
        [
            (11, "c1", "yes", {"no": 0.25, "yes": 0.75}, "churn_classifier", "3", "b1"),
            (12, "c2", "no", {"no": 0.9, "yes": 0.1}, "churn_classifier", "3", "b1"),
        ],
        StructType(
            [
                StructField("_row_key", LongType()),
                StructField("customer_id", StringType()),
                StructField("predicted_class", StringType()),
                StructField("probabilities", MapType(StringType(), DoubleType(), valueContainsNull=False)),
                StructField("model_name", StringType()),
                StructField("model_version", StringType()),
                StructField("batch_id", StringType()),
            ]
        ),
    )
    assert_df_equality(result.drop("scored_at").orderBy("_row_key"), expected, ignore_nullable=True)
    assert result.schema["scored_at"].dataType == TimestampType()
    # AND after the key and the id come the columns every predictions table has (the bundle's monitor reads them)
    assert tuple(result.columns[2:]) == PREDICTION_COLUMNS
    # AND at a decision threshold of 0.8 the first row's 0.75 is no longer the positive class
    at_08 = predicted(0.8)
    assert [r["predicted_class"] for r in at_08.orderBy("_row_key").collect()] == ["no", "no"]
