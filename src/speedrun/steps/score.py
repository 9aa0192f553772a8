"""score: new raw data -> predictions of the registered model, in the `<name>_predictions` Delta table.

New rows go through the same reading and cleaning as training data, under the contract the model was trained
with (kept in the registered model's metadata). Rows that break it are quarantined in
`<name>_scoring_quarantine` with their reason. A batch is written as one Delta commit that replaces that
batch's earlier rows (`replaceWhere`), so scoring the same batch again never duplicates it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from pyspark.ml.functions import vector_to_array
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from speedrun.config import Config
from speedrun.context import RunContext
from speedrun.edges.raw import read_source
from speedrun.edges.registry import CHAMPION, version_by_alias
from speedrun.edges.tracking import registered_model_name, use_experiment
from speedrun.errors import SpeedrunError
from speedrun.progress import step
from speedrun.steps.drift import Drift, batch_drift, keep_drift, refuse_shift
from speedrun.transforms.checks import require_columns
from speedrun.transforms.cleaning import clean, typed_features, with_reject_reason
from speedrun.transforms.columns import REASON, ROW_KEY, column
from speedrun.transforms.contract import Contract
from speedrun.transforms.decision import decided
from speedrun.transforms.drift import Profile
from speedrun.transforms.features import output_columns

BATCH_ID = re.compile(r"^[A-Za-z0-9_.:/=+-]+$")


def from_here(path: str) -> str:
    """A command-line path, relative to where you are (made absolute: Spark would take the JVM's folder)."""
    return path if "://" in path else str(Path(path).absolute())


@dataclass(frozen=True)
class ScoringResult:
    batch_id: str
    scored: int
    quarantined: int
    model_name: str
    model_version: str
    drift: Drift | None = None


@dataclass(frozen=True)
class Registered:
    """A registered model version and what is kept with it."""

    model: Any
    contract: Contract
    name: str
    version: str
    threshold: float | None  # its decision threshold (None: the classifier's own prediction)
    profile: Profile  # its training rows' profile, for the drift of a scored batch (empty: registered without)


def registered_model(cfg: Config, version: str | None) -> Registered:
    """The registered pipeline (the champion's version, or a given one), its contract, name, version, threshold
    and training profile."""
    import mlflow
    import mlflow.spark
    from mlflow.exceptions import MlflowException

    use_experiment(cfg)
    name = registered_model_name(cfg)
    version = version or version_by_alias(name, CHAMPION)
    if version is None:
        raise SpeedrunError(f"{name} has no {CHAMPION}: run `speedrun promote` first, or give --version")
    uri = f"models:/{name}/{version}"
    try:
        info = mlflow.models.get_model_info(uri)
        model = mlflow.spark.load_model(uri)
    except MlflowException as exc:
        raise SpeedrunError(f"cannot load {uri}: {str(exc).splitlines()[0]}") from None
    kept = info.metadata or {}
    contract = Contract(**kept["speedrun_contract"])
    return Registered(
        model, contract, name, version, kept.get("speedrun_threshold"), kept.get("speedrun_profile") or {}
    )


def predictions(
    scored: DataFrame,
    contract: Contract,
    model: tuple[str, str],
    batch_id: str,
    outputs: tuple[str, str],
    threshold: float | None = None,
) -> DataFrame:
    """Row key, id, predicted class (at the model's `threshold`, if any), class probabilities, model, scoring
    time and batch of each scored row; `outputs`: the columns the model wrote its prediction and probabilities
    to (`features.output_columns`)."""
    classes = F.array(*[F.lit(c) for c in contract.classes])
    prediction, probability = outputs
    probabilities = vector_to_array(probability)
    scored = decided(scored, threshold, probability, prediction)
    return scored.select(
        ROW_KEY,
        *([column(contract.id)] if contract.id else []),
        F.element_at(classes, F.col(prediction).cast("int") + 1).alias("predicted_class"),
        F.map_from_arrays(classes, probabilities).alias("probabilities"),
        F.lit(model[0]).alias("model_name"),
        F.lit(model[1]).alias("model_version"),
        F.current_timestamp().alias("scored_at"),
        F.lit(batch_id).alias("batch_id"),
    )


def score(
    ctx: RunContext, input_path: str | None = None, batch_id: str | None = None, version: str | None = None
) -> ScoringResult:
    """Score the files at `input_path` (default: scoring.path) as batch `batch_id` (default: the path) with the
    champion (or `version`)."""
    spark, cfg, tables = ctx.spark, ctx.cfg, ctx.tables
    with step("score") as progress:
        path = from_here(input_path) if input_path else cfg.storage.resolve(cfg.scoring.path)
        batch_id = batch_id or path
        if not BATCH_ID.match(batch_id):
            raise SpeedrunError(f"batch id {batch_id!r} may hold only letters, digits and _ . : / = + -")
        registered = registered_model(cfg, version)
        model, contract, name, version = registered.model, registered.contract, registered.name, registered.version
        raw = read_source(spark, cfg.source.model_copy(update={"path": path}), path, "scoring.path")
        require_columns(raw, [*contract.features, *filter(None, [contract.id])], where=path)
        tagged = (
            raw.transform(partial(clean, columns=cfg.columns, null_values=cfg.source.null_values))
            .transform(partial(with_reject_reason, contract=contract, label=None, quote=cfg.source.quote))
            .withColumn("batch_id", F.lit(batch_id))
            .persist()
        )
        try:
            good = tagged.where(F.col(REASON).isNull()).select(*typed_features(contract), ROW_KEY)
            batch = f"batch_id = '{batch_id}'"  # safe: BATCH_ID allows no quote
            outputs = output_columns(model)
            written = tables.replace(
                predictions(model.transform(good), contract, (name, version), batch_id, outputs, registered.threshold),
                "predictions",
                batch,
            )
            quarantined = tables.replace(tagged.where(F.col(REASON).isNotNull()), "scoring_quarantine", batch)
            watched = cfg.scoring.drift.enabled and registered.profile  # none kept by a speedrun before drift
            drift = batch_drift(good, registered.profile, cfg.scoring.drift) if watched else None
            if drift is not None:
                keep_drift(spark, tables, drift, batch_id, (name, version))
        finally:
            tagged.unpersist()
        progress.done(
            f"batch {batch_id}: {written:,} rows scored by {name} v{version} -> {tables.location('predictions')}, "
            f"{quarantined:,} quarantined" + (f"; {drift.line()}" if drift is not None else "")
        )
    if drift is not None:
        refuse_shift(drift, tables.location("drift"))
    return ScoringResult(batch_id, written, quarantined, name, version, drift)
