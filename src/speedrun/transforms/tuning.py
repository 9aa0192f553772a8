"""tune: the search's candidates, each fitted on the train rows and scored on validation, in one Spark session.

The rows are laid out and cached once; the preprocessing (imputer, indexer, encoder, assembler) is fitted once
per shape it takes (one-hot categories for linear models, indexed ones for trees) and its output cached, so a
candidate costs its classifier's fit and one scoring. The best candidate by the search's metric becomes the run's
model (its preprocessing and classifier as one PipelineModel), recorded, registered and evaluated on test like any
run's. Ties go to the candidate tried first.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from typing import Any

from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.functions import vector_to_array
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from speedrun.config import Config, TrainConfig
from speedrun.config.models import stops_early
from speedrun.config.search import SearchConfig
from speedrun.errors import SpeedrunError
from speedrun.progress import say
from speedrun.transforms.columns import LABEL, PROBABILITY
from speedrun.transforms.contract import contract_of
from speedrun.transforms.decision import Decision, threshold_for, training_weights, with_weights
from speedrun.transforms.features import TREE_MODELS, build_classifier, ml_pipeline
from speedrun.transforms.fit import beside_validation, fixed_layout, model_columns, sized_for, stopped_at
from speedrun.transforms.metrics import metrics_of, outcome_counts
from speedrun.transforms.search import TRAIN_KEYS, adapted, describe, draw_candidates, is_better, tuning_metric


@dataclass(frozen=True)
class Trial:
    number: int
    params: dict[str, Any]  # the model section: type and parameters (and a class_weight the candidate sets)
    metrics: dict[str, float]  # on the validation rows, at the candidate's threshold
    seconds: float
    decision: Decision  # its threshold on validation and class weights
    rounds: int | None = None  # the rounds (trees) it kept when it stopped early on validation


@dataclass(frozen=True)
class Chosen:
    cfg: Config  # the run's config with the winner as its model
    model: PipelineModel
    validation: dict[str, float]
    trials: list[Trial]
    metric: str
    decision: Decision  # the winner's
    not_tried: list[dict[str, Any]]  # the candidates the budget left out: their number and model section
    budget: float | None


def log_loss(predictions: DataFrame) -> float:
    """The mean negative log of the probability given to each row's true class (clipped at 1e-15)."""
    chance = F.element_at(vector_to_array(PROBABILITY), F.col(LABEL).cast("int") + 1)
    return predictions.agg(F.avg(-F.log(F.greatest(chance, F.lit(1e-15))))).first()[0]


def validation_metrics(predictions: DataFrame, classes: int, train: TrainConfig) -> tuple[dict[str, float], Decision]:
    """The metrics on validation at the run's threshold (fixed, or chosen on these rows), and that threshold."""
    predictions = predictions.persist()
    try:
        counts = outcome_counts(predictions, classes == 2)
        threshold, note = threshold_for(counts, classes, train)
        metrics = {**metrics_of(counts, classes, threshold)[0], "logLoss": log_loss(predictions)}
        return metrics, Decision(threshold, note=note)
    finally:
        predictions.unpersist()


class Shapes:
    """The train and validation rows through each shape of preprocessing, fitted once and cached."""

    def __init__(self, cfg: Config, rows: dict[str, DataFrame], weights: dict[int, float] | None) -> None:
        self.cfg, self.contract = cfg, contract_of(rows["train"])
        # every train row carries its balanced weight; a candidate weighs rows by it only if it asks to
        self.weights = weights
        train = with_weights(model_columns(rows["train"], self.contract), self.weights)
        validation = model_columns(rows["validation"], self.contract)
        self.layout = {
            n: fixed_layout(r, cfg.train.partitions).persist()
            for n, r in (("train", train), ("validation", validation))
        }
        self.shapes: dict[bool, tuple[PipelineModel, DataFrame, DataFrame]] = {}
        self.fitting = threading.Lock()  # candidates fitted at once share each shape's one fit

    def for_model(self, cfg: Config) -> tuple[PipelineModel, DataFrame, DataFrame, Any]:
        """The fitted preprocessing, train and validation rows through it, and the candidate's classifier."""
        stages = ml_pipeline(cfg.model, cfg.features, self.contract).getStages()
        indexed = cfg.model.type in TREE_MODELS
        with self.fitting:
            if indexed not in self.shapes:
                preprocessing = Pipeline(stages=stages[:-1]).fit(self.layout["train"])
                through = [preprocessing.transform(self.layout[n]).persist() for n in ("train", "validation")]
                for rows in through:
                    rows.count()  # cached now, once, rather than inside whichever candidate reads it first
                self.shapes[indexed] = (preprocessing, *through)
        preprocessing, train, validation = self.shapes[indexed]
        classifier = build_classifier(cfg.model, weighted=cfg.train.class_weight == "balanced")
        return preprocessing, train, validation, sized_for(cfg.model, classifier, preprocessing, self.contract)

    def fit_shapes(self, configs: list[Config]) -> None:
        """Fit, ahead of the candidates, each shape of preprocessing that `configs` need (the cost they share)."""
        started = time.perf_counter()
        for cfg in {c.model.type in TREE_MODELS: c for c in configs}.values():
            self.for_model(cfg)
        shapes = ", ".join("indexed" if indexed else "one-hot" for indexed in self.shapes)
        say(f"tune      preprocessing fitted ({shapes}) in {time.perf_counter() - started:.1f}s")

    def release(self) -> None:
        for df in [*self.layout.values(), *(d for _, *kept in self.shapes.values() for d in kept)]:
            df.unpersist()


def choose(
    cfg: Config,
    rows: dict[str, DataFrame],
    budget: float | None = None,
    log_trial=None,
    train_counts: Mapping[int, int] | None = None,
) -> Chosen:
    """Try the search's candidates (the config's, or the default search), `search.parallel` at a time, and keep
    the best on validation (ties: the first tried); `budget` (seconds) stops starting new ones; `log_trial(trial)`
    records each (MLflow child runs, from this thread, where the training run is active); `train_counts`: the
    train rows per class index (the split step's), which a candidate weighing classes is weighed from."""
    search = cfg.search or SearchConfig()
    budget = budget or search.budget_seconds()
    if not rows["validation"].take(1):
        raise SpeedrunError("tuning needs validation rows: set split.validation above 0")
    candidates = adapted(draw_candidates(search), cfg.search is None, cfg.train)
    configs = [with_model(cfg, params) for params in candidates]
    weighed = next((c.train for c in configs if c.train.class_weight == "balanced"), None)
    prepared = Shapes(cfg, rows, training_weights(train_counts or {}, weighed) if weighed else None)
    started = time.perf_counter()
    metric = tuning_metric(search, prepared.contract)

    def attempt(number: int, params: dict[str, Any]) -> tuple[Trial, PipelineModel] | None:
        if budget is not None and number > 1 and time.perf_counter() - started > budget:
            return None
        return fit_candidate(with_model(cfg, params), prepared, number, metric)

    done: dict[int, tuple[Trial, PipelineModel]] = {}
    pool = ThreadPoolExecutor(max_workers=search.parallel, thread_name_prefix="speedrun-tune")
    try:
        prepared.fit_shapes(configs)
        for future in as_completed([pool.submit(attempt, n, p) for n, p in enumerate(candidates, 1)]):
            if (outcome := future.result()) is not None:
                trial = outcome[0]
                done[trial.number] = outcome
                stopped = "" if trial.rounds is None else f", stopped early at round {trial.rounds}"
                say(
                    f"tune      {trial.number}/{len(candidates)} {describe(candidates[trial.number - 1])}: {metric} "
                    f"{trial.metrics[metric]:.4f} ({trial.seconds:.1f}s{stopped})"
                )
                if log_trial is not None:
                    log_trial(trial)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        prepared.release()
    if len(done) < len(candidates):
        say(f"tune      budget of {budget:g}s spent: {len(done)} of {len(candidates)} candidates tried")
    trials = [done[n][0] for n in sorted(done)]
    winner = trials[0]
    for trial in trials[1:]:
        if is_better(trial.metrics[metric], winner.metrics[metric], metric):
            winner = trial
    chosen_cfg = with_model(cfg, winner.params)
    not_tried = [{"number": n, **params} for n, params in enumerate(candidates, 1) if n not in done]
    model = done[winner.number][1]
    return Chosen(chosen_cfg, model, winner.metrics, trials, metric, winner.decision, not_tried, budget)


def with_model(cfg: Config, params: dict[str, Any]) -> Config:
    """`cfg` with `params` as its model section (a `class_weight` among them in its train section), validated."""
    data = {**cfg.as_dict(), "model": {k: v for k, v in params.items() if k not in TRAIN_KEYS}}
    data["train"] = {**data["train"], **{k: params[k] for k in TRAIN_KEYS if k in params}}
    return Config.model_validate(data)


def fit_candidate(cfg: Config, prepared: Shapes, number: int, metric: str) -> tuple[Trial, PipelineModel]:
    started = time.perf_counter()
    preprocessing, train, validation, classifier = prepared.for_model(cfg)
    weights = prepared.weights if cfg.train.class_weight == "balanced" else None
    fitted = classifier.fit(beside_validation(train, validation, weights) if stops_early(cfg.model) else train)
    classes = len(prepared.contract.classes)
    metrics, decision = validation_metrics(fitted.transform(validation), classes, cfg.train)
    if metric not in metrics:
        raise SpeedrunError(f"search.metric {metric} is not defined for {classes} classes")
    params = {**cfg.model.model_dump(), **({"class_weight": "balanced"} if weights else {})}
    seconds = time.perf_counter() - started
    trial = Trial(number, params, metrics, seconds, replace(decision, weights=weights), stopped_at(fitted))
    return trial, PipelineModel(stages=[*preprocessing.stages, fitted])
