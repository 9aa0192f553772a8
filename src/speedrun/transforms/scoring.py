"""The transforms of batch scoring, pure: a batch's rows as the model needs them, and its two tables' rows, each of
one schema whatever the batch's files hold (more columns, the label, columns in another order)."""

from __future__ import annotations

from pyspark.ml.functions import vector_to_array
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from speedrun.transforms.columns import CORRUPT, REASON, ROW_KEY, SOURCE_FILE, column
from speedrun.transforms.contract import Contract
from speedrun.transforms.decided_class import PREDICTED_CLASS


def model_inputs(raw: DataFrame, contract: Contract) -> DataFrame:
    """The batch's columns the model reads, by name: its id, its features, and what speedrun adds (the file, a
    malformed line); any other column of the files (the label, a note) is left out of the tables."""
    own = [c for c in (CORRUPT, SOURCE_FILE) if c in raw.columns]
    return raw.select(*[column(c) for c in [*filter(None, [contract.id]), *contract.features]], *own)


def quarantined(tagged: DataFrame, contract: Contract, batch_id: str) -> DataFrame:
    """The rows a batch refused, in the scoring quarantine's one schema: row key, id and features as read (as
    text), the malformed line (if any), file, reason, batch."""
    corrupt = F.col(CORRUPT) if CORRUPT in tagged.columns else F.lit(None)
    return tagged.where(F.col(REASON).isNotNull()).select(
        ROW_KEY,
        *[column(c).cast("string").alias(c) for c in [*filter(None, [contract.id]), *contract.features]],
        corrupt.cast("string").alias(CORRUPT),
        SOURCE_FILE,
        REASON,
        F.lit(batch_id).alias("batch_id"),
    )


# what every predictions table holds beside the row key and the id (the bundle's monitor reads them)
PREDICTION_COLUMNS = ("predicted_class", "probabilities", "model_name", "model_version", "scored_at", "batch_id")


def predictions(
    scored: DataFrame, contract: Contract, model: tuple[str, str], batch_id: str, probability: str
) -> DataFrame:
    """Row key, id, predicted class (the registered model's own, `decided_class`), class probabilities, model,
    scoring time and batch of each scored row; `scored` is the model's output, whose classifier wrote its
    probabilities to the column `probability`."""
    classes = F.array(*[F.lit(c) for c in contract.classes])
    return scored.select(
        ROW_KEY,
        *([column(contract.id)] if contract.id else []),
        F.col(PREDICTED_CLASS).alias("predicted_class"),
        F.map_from_arrays(classes, vector_to_array(F.col(probability))).alias("probabilities"),
        F.lit(model[0]).alias("model_name"),
        F.lit(model[1]).alias("model_version"),
        F.current_timestamp().alias("scored_at"),
        F.lit(batch_id).alias("batch_id"),
    )
