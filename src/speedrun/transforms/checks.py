"""Checks of user data that end in one clear line naming what is at fault."""

from __future__ import annotations

from pyspark.sql import DataFrame

from speedrun.errors import SpeedrunError


def require_columns(df: DataFrame, names: list[str], where: str) -> None:
    missing = [name for name in names if name not in df.columns]
    if missing:
        raise SpeedrunError(
            f"column{'s' if len(missing) > 1 else ''} {', '.join(missing)} not found in {where}; "
            f"its columns are: {', '.join(c for c in df.columns if not c.startswith('_'))}"
        )
