"""The columns speedrun adds to a dataset's own: names reserved for its bookkeeping (all start with `_`)."""

from pyspark.sql import Column
from pyspark.sql import functions as F

CORRUPT = "_corrupt_record"  # a CSV line with the wrong number of fields, whole (bronze)
SOURCE_FILE = "_source_file"  # the file a row was read from (bronze, silver, quarantine)
INGESTED_AT = "_ingested_at"  # when ingest read it (bronze)
ROW_KEY = "_row_key"  # a stable key of the row's content or id column (silver on)
REASON = "_reject_reason"  # why a row was quarantined
SPLIT = "_split"  # train, validation or test (silver)


def column(name: str) -> Column:
    """A dataset's column by its name exactly as written: a name with a dot, a space or parentheses is one
    column (`F.col` would read `plan.name` as the field `name` of a struct `plan`)."""
    return F.col("`" + name.replace("`", "``") + "`")
