"""The ML pipeline: every fitted transformer learns from the training rows only."""

from __future__ import annotations

import pytest
from pyspark.sql.types import DoubleType, StringType, StructField, StructType

from speedrun.config import load_config
from speedrun.errors import SpeedrunError
from speedrun.transforms.contract import Contract
from speedrun.transforms.decided_class import classifier_outputs
from speedrun.transforms.features import ml_pipeline, spark_param_name

SCHEMA = StructType(
    [
        StructField("age", DoubleType()),
        StructField("contract", StringType()),
        StructField("_label", DoubleType()),
    ]
)


CONTRACT = Contract(numeric=["age"], categorical=["contract"], classes=["no", "yes"])
QUICK = {"logistic_regression": "max_iter: 5", "random_forest": "num_trees: 3", "gbt": "max_iter: 3"}


def pipeline_of(cfg, contract: Contract):
    return ml_pipeline(cfg.model, cfg.features, contract)


def small_cfg(model: str):
    return load_config(
        "default",
        [
            "columns.numeric=[age]",
            "columns.categorical=[contract]",
            "columns.id=null",
            f"model={{type: {model}, {QUICK[model]}}}",
        ],
    )


def test_transformers_are_fitted_on_training_rows_only(spark) -> None:
    # GIVEN training rows with ages 10, 20, 30 (and a missing one), and a test row with a very different age
    train = spark.createDataFrame([(10.0, "a", 0.0), (20.0, "b", 1.0), (30.0, "a", 1.0), (None, "a", 0.0)], SCHEMA)
    test = spark.createDataFrame([(None, "zzz", 0.0), (1000.0, "a", 1.0)], SCHEMA)
    # WHEN the pipeline is fitted on the training rows
    model = pipeline_of(small_cfg("logistic_regression"), CONTRACT).fit(train)
    imputer, indexer = model.stages[1], model.stages[2]  # after the stage that types the features
    # THEN the imputer's median and the indexer's categories come from them alone
    assert imputer.surrogateDF.first()["_age__0"] == 20.0
    assert indexer.labelsArray == [["a", "b"]]
    # AND unseen or missing values at scoring time still score
    scored = model.transform(test).select("_age__0__imputed", "_contract__1__index").collect()
    assert scored[0]["_age__0__imputed"] == 20.0
    assert scored[0]["_contract__1__index"] == 2.0  # the bucket of unseen values


def test_config_keys_map_to_spark_params() -> None:
    assert spark_param_name("max_iter") == "maxIter"
    assert spark_param_name("feature_subset_strategy") == "featureSubsetStrategy"
    assert spark_param_name("seed") == "seed"


def test_gbt_with_more_than_two_classes_is_a_clear_error() -> None:
    three = Contract(numeric=["age"], categorical=[], classes=["a", "b", "c"])
    with pytest.raises(SpeedrunError, match="model type gbt handles two classes only; the label has 3 classes"):
        pipeline_of(small_cfg("gbt"), three)


OWN_NAMES = ["label", "prediction", "features", "probability", "rawPrediction", "age__imputed"]


@pytest.mark.parametrize(
    "model",
    # the trees fit more slowly: the end-to-end suite fits them
    [
        "logistic_regression",
        pytest.param("random_forest", marks=pytest.mark.e2e),
        pytest.param("gbt", marks=pytest.mark.e2e),
    ],
)
def test_every_classifier_fits_and_scores_features_named_as_its_own_columns(spark, model: str) -> None:
    # GIVEN features named as Spark ML's columns and a stage's output (numbers, and `features` a category)
    schema = StructType(
        [StructField(n, StringType() if n == "features" else DoubleType()) for n in OWN_NAMES]
        + [StructField("_label", DoubleType())]
    )
    rows = [
        (float(i), float(i % 3), "ab"[i % 2], float(i % 5), float(i % 4), float(i), float(i > 5)) for i in range(12)
    ]
    train = spark.createDataFrame(rows, schema)
    numeric = [n for n in OWN_NAMES if n != "features"]
    contract = Contract(numeric=numeric, categorical=["features"], classes=["no", "yes"])
    # WHEN the pipeline is fitted and scores them
    fitted = pipeline_of(small_cfg(model), contract).fit(train)
    scored = fitted.transform(train)
    # THEN each row is scored into the pipeline's own `_` columns, read from the fitted model
    assert {"_prediction", "_probability", "_raw_prediction"} <= set(scored.columns)
    assert classifier_outputs(fitted) == ("_prediction", "_probability")
    assert scored.count() == 12
    # AND the user's columns are there, as they were
    assert scored.select(*OWN_NAMES).collect() == train.select(*OWN_NAMES).collect()
