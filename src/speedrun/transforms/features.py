"""The Spark ML Pipeline: preprocessing stages, fitted on training rows only, then the configured classifier."""

from __future__ import annotations

import logging
import re

from pyspark.ml import Pipeline
from pyspark.ml.classification import GBTClassifier, LogisticRegression, RandomForestClassifier
from pyspark.ml.feature import (
    Imputer,
    OneHotEncoder,
    SQLTransformer,
    StandardScaler,
    StringIndexer,
    VectorAssembler,
)

from speedrun.config import FeaturesConfig, ModelConfig
from speedrun.config.models import stops_early
from speedrun.errors import SpeedrunError
from speedrun.transforms.columns import (
    FEATURES,
    IS_VALIDATION,
    LABEL,
    PREDICTION,
    PROBABILITY,
    RAW_PREDICTION,
    WEIGHT,
)
from speedrun.transforms.contract import Contract

CLASSIFIERS = {
    "logistic_regression": LogisticRegression,
    "random_forest": RandomForestClassifier,
    "gbt": GBTClassifier,
}
TREE_MODELS = ("random_forest", "gbt", "xgboost")  # categories go in as indices, not one-hot
BINNED_MODELS = ("random_forest", "gbt")  # Spark's trees: maxBins must hold every category
# the classifier's input and output columns (xgboost's names; Spark's are their camelCase)
COLUMNS = {
    "features_col": FEATURES,
    "label_col": LABEL,
    "prediction_col": PREDICTION,
    "probability_col": PROBABILITY,
    "raw_prediction_col": RAW_PREDICTION,
}


def ml_names(features: list[str]) -> dict[str, str]:
    """The name each feature goes by inside the Spark ML stages: a plain stand-in of its own (`plan.name` ->
    `_plan_name__3`), made by the first stage (`typed_inputs`), so that Spark ML's stages never read a name with a
    dot as a struct's field, and no feature's name is one of the stages' own columns, all of which start with `_`
    (`columns.FEATURES`, `_age__0__imputed`), as a feature's never does. The user's names stay on every table."""
    return {name: stand_in(name, i) for i, name in enumerate(features)}


def stand_in(name: str, position: int) -> str:
    """`plan.name` -> `_plan_name__3`: `_`, then letters, digits and `_`, then its position."""
    cleaned = re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_")
    return f"_{cleaned or 'f'}__{position}"


def typed_inputs(contract: Contract, names: dict[str, str]) -> SQLTransformer:
    """The first stage: each feature under its stand-in (`ml_names`), typed as the model takes it - a number as
    a double (null where a value is not one), a category as a string - whatever type the rows bring: silver's,
    a scoring batch's, or those pandas reads from a raw file and MLflow's pyfunc hands to the model."""
    quoted = {name: f"`{name.replace('`', '``')}`" for name in contract.features}
    typed = [f"TRY_CAST({quoted[n]} AS DOUBLE) AS {names[n]}" for n in contract.numeric]
    typed += [f"CAST({quoted[n]} AS STRING) AS {names[n]}" for n in contract.categorical]
    return SQLTransformer(statement=f"SELECT *, {', '.join(typed)} FROM __THIS__")


def spark_param_name(name: str) -> str:
    """`max_iter` -> `maxIter`."""
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


DEFAULT_MAX_BINS = 32  # Spark's default; raised to the largest categorical feature's values when the config is silent


def classifier_params(model: ModelConfig) -> dict[str, object]:
    """The classifier's parameters the config sets, named as its estimator names them (Spark's camelCase, or
    xgboost's own); `max_bins` unset: sized from the data, see `tree_bins`."""
    params = {k: v for k, v in model.model_dump().items() if k != "type" and v is not None}
    return params if model.type == "xgboost" else {spark_param_name(k): v for k, v in params.items()}


def tree_bins(model: ModelConfig, categories: dict[str, int]) -> int:
    """The trees' `maxBins`: the configured value, which must hold every categorical feature's values (plus the
    bucket of unseen ones), or else the default raised to the largest of them."""
    needed = max(categories.values(), default=0)
    configured = getattr(model, "max_bins", None)
    if configured is None:
        return max(DEFAULT_MAX_BINS, needed)
    if needed > configured:
        column = max(categories, key=lambda c: categories[c])
        raise SpeedrunError(
            f"model.max_bins = {configured} is less than the {needed} values of categorical feature {column} "
            f"(with the bucket of unseen values): raise model.max_bins to {needed} or more, or leave it unset"
        )
    return configured


def build_classifier(model: ModelConfig, weighted: bool = False):
    """The configured classifier on speedrun's columns, reading each row's weight from `_weight` if `weighted`,
    and, when it stops early (`stops_early`), which rows are validation rows from `_is_validation`."""
    inputs = {**COLUMNS, **({"weight_col": WEIGHT} if weighted else {})}
    if stops_early(model):
        inputs["validation_indicator_col"] = IS_VALIDATION
    if model.type == "xgboost":
        from xgboost.spark import SparkXGBClassifier

        for logger in ("XGBoost-PySpark", "SparkXGBClassifier"):  # its training parameters, at INFO, per fit
            logging.getLogger(logger).setLevel(logging.WARNING)
        # verbose=False: not a line per round of each metric on stdout
        return SparkXGBClassifier(**inputs, **classifier_params(model), verbose=False)
    classifier = CLASSIFIERS[model.type](**classifier_params(model))
    for name, value in inputs.items():  # set, not given: GBTClassifier's constructor takes no probabilityCol
        classifier.set(classifier.getParam(spark_param_name(name)), value)
    return classifier


def ml_pipeline(model: ModelConfig, features: FeaturesConfig, contract: Contract, weighted: bool = False) -> Pipeline:
    """The features typed under their stand-in names; an imputer for numbers; for categories a string indexer
    (unseen and missing values kept in their own bucket), one-hot encoded for linear models, left as indexed
    categories for trees; an assembler, an optional scaler, the classifier (weighing rows by `_weight` if
    `weighted`)."""
    if model.type == "gbt" and len(contract.classes) > 2:
        raise SpeedrunError(
            f"model type gbt handles two classes only; the label has {len(contract.classes)} "
            "classes: use random_forest or logistic_regression"
        )
    names = ml_names(contract.features)
    numeric, categorical = [names[c] for c in contract.numeric], [names[c] for c in contract.categorical]
    stages: list = [typed_inputs(contract, names)]
    vector_inputs: list[str] = []
    if numeric:
        imputed = [f"{c}__imputed" for c in numeric]
        stages.append(Imputer(inputCols=numeric, outputCols=imputed, strategy=features.impute_strategy))
        vector_inputs += imputed
    if categorical:
        indexed = [f"{c}__index" for c in categorical]
        stages.append(
            StringIndexer(
                inputCols=categorical,
                outputCols=indexed,
                handleInvalid="keep",
                stringOrderType="frequencyDesc",
            )
        )
        if model.type in TREE_MODELS:
            vector_inputs += indexed
        else:
            encoded = [f"{c}__onehot" for c in categorical]
            stages.append(OneHotEncoder(inputCols=indexed, outputCols=encoded, handleInvalid="keep"))
            vector_inputs += encoded
    assembled = f"{FEATURES}__raw" if features.scale else FEATURES
    stages.append(VectorAssembler(inputCols=vector_inputs, outputCol=assembled))
    if features.scale:
        stages.append(StandardScaler(inputCol=assembled, outputCol=FEATURES, withMean=False, withStd=True))
    stages.append(build_classifier(model, weighted))
    return Pipeline(stages=stages)
