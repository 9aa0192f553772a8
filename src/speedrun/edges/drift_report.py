"""Where a scored batch's drift is kept: its rows in `<name>_drift` (one per feature), and the page of the latest
batch, each feature's PSI as a bar beside the warn and fail lines, and the bins of the features that moved,
training shares against the batch's."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import DoubleType, StringType, StructField, StructType

from speedrun.edges.report import STYLE
from speedrun.edges.tables import Tables
from speedrun.transforms.batch_drift import Drift

DRIFT_SCHEMA = StructType(
    [
        StructField("batch_id", StringType(), False),
        StructField("model_name", StringType(), False),
        StructField("model_version", StringType(), False),
        StructField("feature", StringType(), False),
        StructField("kind", StringType(), False),
        StructField("psi", DoubleType(), False),
        StructField("unseen_share", DoubleType(), False),
        StructField("bins", StringType(), False),  # JSON: [{bin, training, batch}] shares
    ]
)


def keep_drift(spark: SparkSession, tables: Tables, drift: Drift, batch_id: str, model: tuple[str, str]) -> None:
    """The batch's drift rows in `<name>_drift`, replacing the batch's earlier ones (none when it was not
    measured), and its page."""
    rows = [(batch_id, *model, r["feature"], r["kind"], r["psi"], r["unseen_share"], r["bins"]) for r in drift.rows]
    df = spark.createDataFrame(rows, DRIFT_SCHEMA).withColumn("scored_at", F.current_timestamp())
    tables.replace_where(df, "drift", f"batch_id = '{batch_id}'")  # safe: the batch id was checked
    if drift.measured:
        folder = Path(tables.cfg.storage.resolve(f"scoring/{tables.cfg.name}"))
        write_drift_report(folder, batch_id, model, drift.rows, drift.settings.warn, drift.settings.fail)


def kept_drift(spark: SparkSession, tables: Tables, batch_id: str) -> list[dict[str, Any]]:
    """The drift rows kept for a batch (none when its drift was not measured)."""
    if not tables.exists(spark, "drift"):
        return []
    rows = tables.read(spark, "drift").where(F.col("batch_id") == batch_id).drop("scored_at").collect()
    return [row.asDict() for row in rows]


def write_drift_report(
    folder: Path, batch_id: str, model: tuple[str, str], rows: list[dict[str, Any]], warn: float, fail: float | None
) -> Path:
    """Write drift.html and drift.png into `folder` (the latest batch's: the previous batch's are replaced)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    ordered = sorted(rows, key=lambda r: r["psi"])
    fig, ax = plt.subplots(figsize=(6.5, 0.3 * len(ordered) + 1.5))
    colors = [
        "crimson" if fail is not None and r["psi"] > fail else "orange" if r["psi"] > warn else "steelblue"
        for r in ordered
    ]
    ax.barh([r["feature"] for r in ordered], [r["psi"] for r in ordered], color=colors)
    ax.axvline(warn, color="orange", linestyle="--", label=f"warn {warn:g}")
    if fail is not None:
        ax.axvline(fail, color="crimson", linestyle="--", label=f"fail {fail:g}")
    ax.set(title=f"Drift by feature, batch {batch_id}", xlabel="population stability index")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(folder / "drift.png", dpi=90)
    plt.close(fig)
    moved = [r for r in sorted(rows, key=lambda r: -r["psi"]) if r["psi"] > warn]
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>drift {html.escape(batch_id)}</title>
<style>{STYLE}</style></head><body><h1>Drift of batch {html.escape(batch_id)}</h1>
<p>Scored by {html.escape(model[0])} v{html.escape(model[1])}; each feature's population stability index against
the training rows (above {warn:g}: moved{f"; above {fail:g}: shifted, the scoring task fails" if fail else ""}).</p>
<img src="drift.png" alt="drift by feature">
{"".join(bins_table(r) for r in moved)}
</body></html>
"""
    path = folder / "drift.html"
    path.write_text(page)
    return path


def bins_table(row: dict[str, Any]) -> str:
    cells = "".join(
        f"<tr><td>{html.escape(b['bin'])}</td><td>{b['training']:.3f}</td><td>{b['batch']:.3f}</td></tr>"
        for b in json.loads(row["bins"])
    )
    title = f"{html.escape(row['feature'])}: PSI {row['psi']:.3f}, unseen {row['unseen_share']:.1%}"
    return f"<h2>{title}</h2><table><tr><th>bin</th><th>training</th><th>batch</th></tr>{cells}</table>"
