"""The base of every config section: unknown keys are errors, values are immutable."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# the headline metrics of a model on test rows (`transforms.metrics`), as validation and tuning name them
METRICS = ("areaUnderROC", "areaUnderPR", "accuracy", "precision", "recall", "f1")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _identifier(value: str | None) -> str | None:
    if value is not None and not IDENTIFIER.match(value):
        raise ValueError(f"{value!r} is not a plain identifier (letters, digits, underscores)")
    return value
