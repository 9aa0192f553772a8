"""The Spark ML Pipeline: preprocessing stages, fitted on training rows only, then the configured classifier."""

from __future__ import annotations

from pyspark.ml import Pipeline
from pyspark.ml.classification import GBTClassifier, LogisticRegression, RandomForestClassifier
from pyspark.ml.feature import Imputer, OneHotEncoder, StandardScaler, StringIndexer, VectorAssembler

from speedrun.config import Config
from speedrun.contract import LABEL, Contract
from speedrun.errors import SpeedrunError

FEATURES = "features"
CLASSIFIERS = {
    "logistic_regression": LogisticRegression,
    "random_forest": RandomForestClassifier,
    "gbt": GBTClassifier,
}
TREE_MODELS = ("random_forest", "gbt")


def spark_param_name(name: str) -> str:
    """`max_iter` -> `maxIter`."""
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


def classifier_params(cfg: Config) -> dict[str, object]:
    return {spark_param_name(k): v for k, v in cfg.model.model_dump().items() if k != "type"}


def build_classifier(cfg: Config):
    return CLASSIFIERS[cfg.model.type](featuresCol=FEATURES, labelCol=LABEL, **classifier_params(cfg))


def build_pipeline(cfg: Config, contract: Contract) -> Pipeline:
    """Imputer for numbers; for categories a string indexer (unseen and missing values kept in their own
    bucket), one-hot encoded for linear models, left as indexed categories for trees; an assembler, an
    optional scaler, the classifier."""
    if cfg.model.type == "gbt" and len(contract.classes) > 2:
        raise SpeedrunError(
            f"model type gbt handles two classes only; the label has {len(contract.classes)} "
            "classes: use random_forest or logistic_regression"
        )
    numeric, categorical = contract.numeric, contract.categorical
    stages: list = []
    vector_inputs: list[str] = []
    if numeric:
        imputed = [f"{c}__imputed" for c in numeric]
        stages.append(Imputer(inputCols=numeric, outputCols=imputed, strategy=cfg.features.impute_strategy))
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
        if cfg.model.type in TREE_MODELS:
            vector_inputs += indexed
        else:
            encoded = [f"{c}__onehot" for c in categorical]
            stages.append(OneHotEncoder(inputCols=indexed, outputCols=encoded, handleInvalid="keep"))
            vector_inputs += encoded
    assembled = f"{FEATURES}__raw" if cfg.features.scale else FEATURES
    stages.append(VectorAssembler(inputCols=vector_inputs, outputCol=assembled))
    if cfg.features.scale:
        stages.append(StandardScaler(inputCol=assembled, outputCol=FEATURES, withMean=False, withStd=True))
    stages.append(build_classifier(cfg))
    return Pipeline(stages=stages)
