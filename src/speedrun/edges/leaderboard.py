"""A tuning run's leaderboard: every candidate's validation metric and time, as JSON, a chart and an HTML table
in the run's report folder (the report shows it; MLflow keeps it with the report's files)."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from speedrun.config.search import LOWER_IS_BETTER

FILE = "leaderboard.json"
CHART = "leaderboard.png"


def ranked(trials: list[Any], metric: str) -> list[dict[str, Any]]:
    """One row per candidate, best first (ties in the order tried), the winner first."""
    sign = 1 if metric in LOWER_IS_BETTER else -1
    order = sorted(trials, key=lambda t: (sign * t.metrics[metric], t.number))
    return [
        {
            "rank": rank,
            "candidate": t.number,
            "model": t.params["type"],
            "params": {k: v for k, v in t.params.items() if k != "type"},
            metric: t.metrics[metric],
            "seconds": round(t.seconds, 2),
            "rounds": t.rounds,  # the rounds it kept, when it stopped early on validation
            "metrics": t.metrics,
        }
        for rank, t in enumerate(order, 1)
    ]


def write_leaderboard(folder: Path, trials: list[Any], metric: str) -> Path:
    """leaderboard.json and its chart (validation metric and seconds per candidate) in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = ranked(trials, metric)
    (folder / FILE).write_text(json.dumps({"metric": metric, "candidates": rows}, indent=2) + "\n")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tried = sorted(trials, key=lambda t: t.number)
    names = [f"{t.number}: {t.params['type']}" for t in tried]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 0.3 * len(tried) + 1.5), sharey=True)
    left.barh(
        names,
        [t.metrics[metric] for t in tried],
        color=["C1" if t.number == rows[0]["candidate"] else "C0" for t in tried],
    )
    left.set(title=f"validation {metric}", xlim=(min(t.metrics[metric] for t in tried) * 0.98, None))
    left.invert_yaxis()
    right.barh(names, [t.seconds for t in tried], color="grey")
    right.set(title="seconds per candidate")
    fig.tight_layout()
    fig.savefig(folder / CHART, dpi=90)
    plt.close(fig)
    return folder / FILE


def leaderboard_html(folder: Path) -> str:
    """The report's leaderboard section, when the run was tuned (its leaderboard.json is in `folder`)."""
    if not (folder / FILE).is_file():
        return ""
    board = json.loads((folder / FILE).read_text())
    metric = board["metric"]
    names = ("rank", "candidate", "model", "parameters", metric, "s", "stopped at round")
    head = "<tr>" + "".join(f"<th>{html.escape(n)}</th>" for n in names) + "</tr>"
    cells = "".join(
        f"<tr><td>{r['rank']}</td><td>{r['candidate']}</td><td>{html.escape(r['model'])}</td>"
        f"<td>{html.escape(', '.join(f'{k}={v}' for k, v in r['params'].items()))}</td>"
        f"<td>{r[metric]:.4f}</td><td>{r['seconds']:.1f}</td><td>{r.get('rounds') or ''}</td></tr>"
        for r in board["candidates"]
    )
    return f'<h2>Leaderboard (validation)</h2><table>{head}{cells}</table><img src="{CHART}" alt="leaderboard">'
