"""The evaluation report: an HTML page with PNG charts (ROC and precision-recall curves, confusion matrix,
score distribution per class, feature weights named by the original columns) plus metrics and lineage."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from speedrun.edges.leaderboard import leaderboard_html
from speedrun.transforms.outcome import BINS

STYLE = """body{font-family:sans-serif;margin:2em;max-width:70em} img{margin:.5em;border:1px solid #ddd}
table{border-collapse:collapse;margin:1em 0} th,td{padding:.2em .8em;border-bottom:1px solid #eee;text-align:left}"""


def curves(histogram: list[list[int]]) -> dict[str, list[float]]:
    """ROC and precision-recall points at each bin edge, from the highest threshold down."""
    negatives, positives = (sum(h) for h in histogram)
    tp = fp = 0
    out: dict[str, list[float]] = {"fpr": [0.0], "tpr": [0.0], "precision": [1.0], "recall": [0.0]}
    for b in reversed(range(BINS)):
        tp, fp = tp + histogram[1][b], fp + histogram[0][b]
        out["fpr"].append(fp / negatives if negatives else 0.0)
        out["tpr"].append(tp / positives if positives else 0.0)
        out["recall"].append(tp / positives if positives else 0.0)
        out["precision"].append(tp / (tp + fp) if tp + fp else 1.0)
    return out


def _charts(
    folder: Path,
    histogram: list[list[int]] | None,
    matrix: list[list[int]],
    labels: list[str],
    weights: tuple[str, list[tuple[str, float]]],
    chosen: tuple[float, float, float] | None = None,
) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made = []

    def save(fig, name: str) -> None:
        fig.tight_layout()
        fig.savefig(folder / name, dpi=90)
        plt.close(fig)
        made.append(name)

    if histogram is not None:
        c = curves(histogram)
        fig, ax = plt.subplots(figsize=(4.5, 4))
        ax.plot(c["fpr"], c["tpr"])
        ax.plot([0, 1], [0, 1], "--", color="grey")
        ax.set(title="ROC curve", xlabel="false positive rate", ylabel="true positive rate")
        save(fig, "roc.png")
        fig, ax = plt.subplots(figsize=(4.5, 4))
        ax.plot(c["recall"], c["precision"])
        if chosen is not None:  # the test rows' precision and recall at the threshold chosen on validation
            threshold, precision, recall = chosen
            ax.plot([recall], [precision], "o", color="crimson", label=f"threshold {threshold:.3f}")
            ax.legend(loc="lower left")
        ax.set(title="Precision-recall curve", xlabel="recall", ylabel="precision", ylim=(0, 1.02))
        save(fig, "pr.png")
        fig, ax = plt.subplots(figsize=(4.5, 4))
        edges = [b / BINS for b in range(BINS)]
        for k, name in enumerate(labels[:2]):
            ax.bar(edges, histogram[k], width=1 / BINS, alpha=0.6, label=f"actual {name}", align="edge")
        ax.set(title=f"Score distribution (P({labels[1]}))", xlabel="score", ylabel="rows")
        ax.legend()
        save(fig, "scores.png")
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.imshow(matrix, cmap="Blues")
    darkest = max(max(row) for row in matrix) or 1
    for i, row in enumerate(matrix):
        for j, n in enumerate(row):
            ax.text(j, i, f"{n:,}", ha="center", va="center", color="white" if n > darkest / 2 else "black")
    ax.set(
        title="Confusion matrix",
        xlabel="predicted",
        ylabel="actual",
        xticks=range(len(labels)),
        yticks=range(len(labels)),
        xticklabels=labels,
        yticklabels=labels,
    )
    save(fig, "confusion.png")
    kind, top = weights
    if top:
        fig, ax = plt.subplots(figsize=(6, 0.25 * len(top) + 1))
        ax.barh([n for n, _ in reversed(top)], [v for _, v in reversed(top)])
        ax.set(title=f"Feature {kind}s", xlabel=kind)
        save(fig, "features.png")
    return made


def write_report(
    folder: Path,
    report: dict[str, Any],
    histogram: list[list[int]] | None,
    weights: tuple[str, list[tuple[str, float]]],
) -> Path:
    """Write report.html and its charts into `folder`; returns the page's path."""
    folder.mkdir(parents=True, exist_ok=True)
    labels = report["confusion_matrix"]["labels"]
    threshold, metrics = report.get("threshold"), report["metrics"]
    chosen = (threshold, metrics["precision"], metrics["recall"]) if threshold is not None and histogram else None
    matrix = report["confusion_matrix"]["rows_actual_columns_predicted"]
    images = _charts(folder, histogram, matrix, labels, weights, chosen)

    def table(rows: dict[str, Any]) -> str:
        cells = "".join(
            f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_fmt(v))}</td></tr>" for k, v in rows.items()
        )
        return f"<table>{cells}</table>"

    lineage = {
        **{f"{k} version": v for k, v in report["inputs"].items()},
        **report["rows"],
        "config hash": report["config_hash"],
        "git commit": report["git_commit"],
        "speedrun": report["speedrun_version"],
        "Spark": report["spark_version"],
    }
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>speedrun {report["run_id"]}</title>
<style>{STYLE}</style>
</head><body><h1>{html.escape(report["name"])}: run {html.escape(report["run_id"])}</h1>
<p>{html.escape(report["model"]["type"])} on {report["rows"]["train"]:,} training rows,
evaluated on {report["rows"]["test"]:,} test rows.</p>
<h2>Test metrics</h2>{threshold_line(threshold)}{table(report["metrics"])}
{leaderboard_html(folder)}
<h2>Charts</h2>{"".join(f'<img src="{name}" alt="{name}">' for name in images)}
<h2>Lineage</h2>{table(lineage)}
<h2>Model parameters</h2>{table(report["model"]["params"])}
</body></html>
"""
    path = folder / "report.html"
    path.write_text(page)
    return path


def threshold_line(threshold: float | None) -> str:
    if threshold is None:
        return ""
    return f"<p>Class metrics at the decision threshold {threshold:.4f}: P(positive) at least this predicts it.</p>"


def _fmt(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)
