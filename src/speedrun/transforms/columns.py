"""The names speedrun reserves: the columns it adds to a dataset's own (all start with `_`), and the roles of the
tables it keeps for one dataset (the table of role `silver` of dataset `churn` is `churn_silver`)."""

from typing import Literal, get_args

from pyspark.sql import Column
from pyspark.sql import functions as F

CORRUPT = "_corrupt_record"  # a CSV line with the wrong number of fields, whole (bronze)
SOURCE_FILE = "_source_file"  # the file a row was read from (bronze, silver, quarantine)
INGESTED_AT = "_ingested_at"  # when ingest read it (bronze)
ROW_KEY = "_row_key"  # a stable key of the row's content or id column (silver on)
REASON = "_reject_reason"  # why a row was quarantined
SPLIT = "_split"  # train, validation or test (silver)
LABEL = "_label"  # the label's class index, carrying the data contract (silver on)
# what the Spark ML stages make: the feature vector and the classifier's outputs
FEATURES = "_features"
PREDICTION = "_prediction"
PROBABILITY = "_probability"
RAW_PREDICTION = "_raw_prediction"
RESERVED = (CORRUPT, SOURCE_FILE, INGESTED_AT, ROW_KEY, REASON, SPLIT, LABEL, FEATURES, PREDICTION, PROBABILITY)
WEIGHT = "_weight"  # a training row's weight (train.class_weight: balanced)
IS_VALIDATION = "_is_validation"  # a classifier's input row that is a validation row (early stopping)
RESERVED += (RAW_PREDICTION, WEIGHT, IS_VALIDATION)

Role = Literal[
    "bronze",  # the raw files' rows, every value a string as read (ingest)
    "silver",  # cleaned, typed rows with their `_split` (prepare, split)
    "quarantine",  # rows prepare refused, each with its reason
    "bronze_test",  # a given test file's bronze, silver and quarantine (`test_source`)
    "silver_test",
    "quarantine_test",
    "training_runs",  # one record per training run (runs.TrainingRun)
    "metrics",  # one row per evaluated run (runs.METRICS_SCHEMA)
    "predictions",  # batch scoring's output, one batch per `batch_id`
    "scoring_quarantine",  # rows a scoring batch refused, each with its reason
    "drift",  # per scoring batch, each feature's drift from the training rows (transforms.drift)
    "scored_batches",  # the log of the batch folders `score --arrived` scored and `drift --arrived` judged
]
ROLES: tuple[str, ...] = get_args(Role)


def column(name: str) -> Column:
    """A dataset's column by its name exactly as written: a name with a dot, a space or parentheses is one
    column (`F.col` would read `plan.name` as the field `name` of a struct `plan`)."""
    return F.col("`" + name.replace("`", "``") + "`")
