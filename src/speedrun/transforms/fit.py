"""The model of a run: the configured Spark ML pipeline fitted on the training rows, and its metrics on other
rows. Pure: DataFrames and the model's settings in, a fitted model and numbers out; no table is read or written.

Rows are laid out the same way (partitions and order by row key) before every fit: a fit sums per partition, so
this is what makes a refit reproduce its model bit for bit. Metrics need no layout: they come from whole-number
counts of (label, prediction, score), the same in any order, and the areas are summed from those in a fixed order."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Protocol

from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.feature import StringIndexerModel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from speedrun.config import Config, FeaturesConfig, ModelConfig, TrainConfig
from speedrun.config.models import stops_early
from speedrun.errors import SpeedrunError
from speedrun.transforms.columns import FEATURES, IS_VALIDATION, LABEL, ROW_KEY, WEIGHT, column
from speedrun.transforms.contract import Contract, contract_of
from speedrun.transforms.decision import Decision, fixed_threshold, threshold_for, training_weights, with_weights
from speedrun.transforms.features import BINNED_MODELS, ml_names, ml_pipeline, tree_bins
from speedrun.transforms.metrics import metrics_of, outcome_counts

Rows = dict[str, DataFrame]  # the rows of each split
Chosen = tuple[Config, PipelineModel, dict[str, float], Decision]  # a model's config, the fit, validation, decision


def fixed_layout(df: DataFrame, partitions: int) -> DataFrame:
    """The same rows in the same partitions in the same order, whatever the input's layout or the cores:
    fits and metrics sum per partition, so this is what makes a refit reproduce its model bit for bit."""
    others = [column(c) for c in df.columns if c != ROW_KEY]
    return df.repartition(partitions, ROW_KEY).sortWithinPartitions(ROW_KEY, *others)


def model_columns(rows: DataFrame, contract: Contract) -> DataFrame:
    """The columns a fit reads (the features, the label, the row key), in their order: what is shuffled into
    the fixed layout and cached, not the id, the source file or the split."""
    needed = {*contract.features, LABEL, ROW_KEY}
    return rows.select(*[column(c) for c in rows.columns if c in needed])


class Keeping(Protocol):
    """Where fits may keep their preprocessed inputs for the next fit (`edges.kept_inputs.KeptInputs`)."""

    def prepared(
        self, training: DataFrame, settings: str, make: Callable[[], Preprocessed]
    ) -> tuple[Preprocessed, bool]: ...


Preprocessed = tuple[PipelineModel, DataFrame, int]  # the fitted preprocessing, its cached output, its rows


def fit(
    training: DataFrame,
    model: ModelConfig,
    features: FeaturesConfig,
    partitions: int,
    weights: dict[int, float] | None = None,
    keeping: Keeping | None = None,
    validation: DataFrame | None = None,
) -> PipelineModel:
    """Fit the pipeline of `model` and `features` on the training rows, laid out the reproducible way (in
    `partitions`), each row weighing its class's weight when given. Trees get as many bins as the categorical
    feature with the most values needs (the indexers are fitted first, as the pipeline would). With `keeping`,
    the preprocessed rows of an earlier fit of the same rows and preprocessing are used again (the same, bit for
    bit), and these kept for the next one. A model that stops early (`stops_early`) watches the `validation`
    rows, through the preprocessing fitted on the training rows, to stop adding trees."""
    if stops_early(model) and validation is None:
        raise SpeedrunError(
            f"{early_stopping_key(model)}: stopping early needs validation rows: set split.validation above 0, "
            "or remove the key"
        )
    contract = contract_of(training)
    stages = ml_pipeline(model, features, contract, weighted=weights is not None).getStages()
    made = partial(preprocessed, training, stages[:-1], contract, partitions, weights)
    settings = f"{partitions}|{sorted((weights or {}).items())}|{stage_settings(stages[:-1])}"
    (preprocessing, prepared, _), kept = keeping.prepared(training, settings, made) if keeping else (made(), False)
    try:
        classifier = sized_for(model, stages[-1], preprocessing, contract)
        inputs = prepared
        if stops_early(model):
            watched = preprocessing.transform(fixed_layout(model_columns(validation, contract), partitions))
            inputs = beside_validation(prepared, watched, weights)
        return PipelineModel(stages=[*preprocessing.stages, classifier.fit(inputs)])
    finally:
        if not kept:
            prepared.unpersist()


def early_stopping_key(model: ModelConfig) -> str:
    return "model.early_stopping_rounds" if model.type == "xgboost" else "model.validation_tol"


def beside_validation(train: DataFrame, validation: DataFrame, weights: dict[int, float] | None) -> DataFrame:
    """The classifier's inputs of the training rows, then those of the validation rows (both through the same
    preprocessing, weighed alike), told apart by `_is_validation`: what a model that stops early reads. Built
    the same way by `fit` and by tune, so that a tuned model is refitted bit for bit."""
    inputs = [FEATURES, LABEL, *([WEIGHT] if weights is not None else [])]
    return (
        train.select(*inputs)
        .withColumn(IS_VALIDATION, F.lit(False))
        .unionByName(with_weights(validation, weights).select(*inputs).withColumn(IS_VALIDATION, F.lit(True)))
    )


def stopped_at(classifier) -> int | None:
    """The rounds (trees) a fitted classifier that stopped early on validation kept; None for one that did not."""
    if hasattr(classifier, "get_booster"):
        best = classifier.get_booster().attr("best_iteration")
        return None if best is None else int(best) + 1
    if classifier.hasParam("validationIndicatorCol") and classifier.isDefined("validationIndicatorCol"):
        return classifier.getNumTrees
    return None


def preprocessed(
    training: DataFrame, stages: list, contract: Contract, partitions: int, weights: dict[int, float] | None
) -> Preprocessed:
    """The preprocessing `stages` fitted on the training rows in their fixed layout, and the classifier's inputs
    (features, label, weight) it makes of them, cached, with their number.

    One cache at a time: the laid-out rows while the preprocessing is fitted on them, then only the
    classifier's inputs, cached before the classifier reads them, so that it does not cache its own copy beside
    ours (at 10^7 rows two caches spill to disk on a 2 GB heap)."""
    rows = fixed_layout(with_weights(model_columns(training, contract), weights), partitions).persist()
    try:
        preprocessing = Pipeline(stages=stages).fit(rows)
        inputs = [FEATURES, LABEL, *([WEIGHT] if weights is not None else [])]
        prepared = preprocessing.transform(rows).select(*inputs).persist()
        count = prepared.count()  # cached now, from the laid-out rows, before those are freed
    finally:
        rows.unpersist()
    return preprocessing, prepared, count


def stage_settings(stages: list) -> str:
    """The preprocessing stages' classes and the settings made on them, in order: what their fit and output depend
    on besides the rows (a setting left at its default is the class's, except for names made of the stage's
    random uid, which nothing reads)."""
    return repr(
        [(type(s).__name__, sorted((p.name, repr(s.getOrDefault(p))) for p in s.params if s.isSet(p))) for s in stages]
    )


def sized_for(model: ModelConfig, classifier, preprocessing: PipelineModel, contract: Contract):
    """`classifier`, with Spark's trees given the bins the fitted indexers' widest categorical feature needs."""
    if model.type not in BINNED_MODELS:
        return classifier
    return classifier.setMaxBins(tree_bins(model, category_counts(preprocessing, ml_names(contract.features))))


def category_counts(preprocessing: PipelineModel, names: dict[str, str]) -> dict[str, int]:
    """Each categorical feature's number of values as indexed, plus the bucket of unseen and missing ones, by
    the feature's own name (`names`: each feature's name inside the stages, from `ml_names`)."""
    own_name = {stand_in: name for name, stand_in in names.items()}
    counts = {}
    for stage in preprocessing.stages:
        if isinstance(stage, StringIndexerModel):
            for column, labels in zip(stage.getInputCols(), stage.labelsArray, strict=True):
                counts[own_name[column]] = len(labels) + 1
    return counts


def metrics_on(
    fitted: PipelineModel, rows: DataFrame, threshold: float | None = None
) -> tuple[dict[str, float], list[list[int]]]:
    """Metrics and confusion matrix of `fitted` on `rows` (empty when there are no rows), at `threshold`. From
    whole-number counts, the same in any row order: the rows are scored as read, with no shuffle."""
    n_classes = len(contract_of(rows).classes)
    return metrics_of(outcome_counts(fitted.transform(rows), n_classes == 2), n_classes, threshold)


def decided_on_validation(
    fitted: PipelineModel, rows: DataFrame, train: TrainConfig
) -> tuple[dict[str, float], Decision]:
    """Metrics of `fitted` on the validation `rows` (empty when there are none) at the run's threshold: the one
    `train` fixes, or the one its objective chooses on these rows (from the same one Spark job's counts)."""
    n_classes = len(contract_of(rows).classes)
    counts = outcome_counts(fitted.transform(rows), n_classes == 2)
    threshold, note = threshold_for(counts, n_classes, train)
    return metrics_of(counts, n_classes, threshold)[0], Decision(threshold, note=note)


def fit_configured(cfg: Config, rows: Rows, counts: dict[str, Counter], keeping: Keeping | None = None) -> Chosen:
    """The configured model, fitted on the train rows (weighted as `train.class_weight` says, from the split's
    `counts` per class; their preprocessing kept as `fit` says), with its validation metrics at its threshold
    (fixed, or chosen there); no metrics without validation rows. What train fits, and replay again."""
    weights = training_weights(counts["train"], cfg.train)
    validation = rows["validation"] if sum(counts["validation"].values()) else None
    model = fit(rows["train"], cfg.model, cfg.features, cfg.train.partitions, weights, keeping, validation)
    if validation is None:
        return cfg, model, {}, Decision(fixed_threshold(cfg.train), weights)
    validation, decision = decided_on_validation(model, rows["validation"], cfg.train)
    return cfg, model, validation, replace(decision, weights=weights)
