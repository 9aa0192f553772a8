"""A tuning run's leaderboard: every candidate's validation metric and time, as JSON, a chart and an HTML table
in the run's report folder (the report shows it; MLflow keeps it with the report's files)."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
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
            "stopped": why_it_stopped(t),
            "metrics": t.metrics,
        }
        for rank, t in enumerate(order, 1)
    ]


def why_it_stopped(trial: Any) -> str:
    """How a candidate's fit ended: early on validation at a round, after all its rounds, or as configured."""
    rounds = trial.params.get("n_estimators", trial.params.get("max_iter"))
    if trial.rounds is not None:
        return f"early stopping at round {trial.rounds} of {rounds}"
    if trial.params["type"] in ("xgboost", "gbt"):
        return f"all {rounds} rounds"
    return f"up to {rounds} iterations" if rounds else "fitted"


def not_tried_rows(params: Sequence[dict[str, Any]], budget: float | None) -> list[dict[str, Any]]:
    """A row for each candidate the budget left out (`params`: their number and model section)."""
    why = f"not tried: the budget of {budget:g}s was spent" if budget is not None else "not tried"
    return [
        {
            "candidate": p["number"],
            "model": p["type"],
            "params": {k: v for k, v in p.items() if k not in ("type", "number")},
            "stopped": why,
        }
        for p in params
    ]


def write_leaderboard(
    folder: Path,
    trials: list[Any],
    metric: str,
    not_tried: Sequence[dict[str, Any]] = (),
    budget: float | None = None,
) -> Path:
    """leaderboard.json and its chart (validation metric and seconds per candidate) in `folder`; the candidates
    the budget left out (`not_tried`: their number and model section) are listed after those tried."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = ranked(trials, metric)
    board = {"metric": metric, "candidates": rows, "not_tried": not_tried_rows(not_tried, budget)}
    (folder / FILE).write_text(json.dumps(board, indent=2) + "\n")
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
    names = ("rank", "candidate", "model", "parameters", metric, "s", "how it ended")
    head = "<tr>" + "".join(f"<th>{html.escape(n)}</th>" for n in names) + "</tr>"
    cells = "".join(
        f"<tr><td>{r['rank']}</td><td>{r['candidate']}</td><td>{html.escape(r['model'])}</td>"
        f"<td>{html.escape(', '.join(f'{k}={v}' for k, v in r['params'].items()))}</td>"
        f"<td>{r[metric]:.4f}</td><td>{r['seconds']:.1f}</td><td>{html.escape(r.get('stopped', ''))}</td></tr>"
        for r in board["candidates"]
    )
    cells += "".join(
        f"<tr><td></td><td>{r['candidate']}</td><td>{html.escape(r['model'])}</td>"
        f"<td>{html.escape(', '.join(f'{k}={v}' for k, v in r['params'].items()))}</td><td></td><td></td>"
        f"<td>{html.escape(r['stopped'])}</td></tr>"
        for r in board.get("not_tried", [])
    )
    return f'<h2>Leaderboard (validation)</h2><table>{head}{cells}</table><img src="{CHART}" alt="leaderboard">'
