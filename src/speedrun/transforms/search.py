"""The candidates of a search, drawn from the `search:` config section (pure: no Spark)."""

from __future__ import annotations

import itertools
import math
import random
from typing import Any

from pydantic import TypeAdapter, ValidationError

from speedrun.config.decisions import ThresholdObjective, TrainConfig
from speedrun.config.models import ModelConfig
from speedrun.config.search import LOWER_IS_BETTER, Range, SearchConfig
from speedrun.errors import SpeedrunError
from speedrun.transforms.contract import Contract

RANDOM_TRIALS = 10


def draw_candidates(search: SearchConfig) -> list[dict[str, Any]]:
    """The model sections to try, in order: every grid combination (the first `trials`), or `trials` random draws
    (seeded: the same search draws the same candidates). Each is checked as a `model:` section."""
    if search.strategy == "grid":
        drawn = [combo for spec in search.candidates for combo in grid(spec)][: search.trials]
    else:
        rng = random.Random(search.seed)
        drawn = [draw(rng.choice(search.candidates), rng) for _ in range(search.trials or RANDOM_TRIALS)]
    return [checked(candidate, n) for n, candidate in enumerate(drawn, 1)]


def fitted_models(model: ModelConfig, search: SearchConfig | None, tuning: bool) -> list[dict[str, Any]]:
    """The model sections a training run fits: the configured model's, or when tuning the search's candidates."""
    if not (tuning or search):
        return [model.model_dump()]
    return draw_candidates(search or SearchConfig())


def grid(spec: dict[str, Any]) -> list[dict[str, Any]]:
    for key, value in spec.items():
        if isinstance(value, dict):
            raise SpeedrunError(f"search.candidates: {spec['type']}.{key} is a range, which needs strategy: random")
    keys = list(spec)
    values = [v if isinstance(v, list) else [v] for v in spec.values()]
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*values)]


def draw(spec: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    return {key: draw_value(value, rng) for key, value in spec.items()}


def draw_value(value: Any, rng: random.Random) -> Any:
    if isinstance(value, list):
        return rng.choice(value)
    if not isinstance(value, dict):
        return value
    bounds = Range.model_validate(value)
    if bounds.log:
        return float(f"{math.exp(rng.uniform(math.log(bounds.low), math.log(bounds.high))):.4g}")
    if float(bounds.low).is_integer() and float(bounds.high).is_integer() and isinstance(value["low"], int):
        return rng.randint(int(bounds.low), int(bounds.high))
    return float(f"{rng.uniform(bounds.low, bounds.high):.4g}")


TRAIN_KEYS = ("class_weight",)  # a candidate may set these of the `train:` section beside its model's


def checked(candidate: dict[str, Any], number: int) -> dict[str, Any]:
    weight = candidate.get("class_weight", "none")
    if weight not in ("balanced", "none"):
        raise SpeedrunError(f"search candidate {number} ({candidate}): class_weight: give balanced or none")
    try:
        TypeAdapter(ModelConfig).validate_python({k: v for k, v in candidate.items() if k not in TRAIN_KEYS})
    except ValidationError as exc:
        problem = exc.errors(include_url=False)[0]
        key = ".".join(str(p) for p in problem["loc"][1:]) or "type"
        raise SpeedrunError(f"search candidate {number} ({candidate}): {key}: {problem['msg']}") from None
    return candidate


def adapted(candidates: list[dict[str, Any]], default_search: bool, train: TrainConfig) -> list[dict[str, Any]]:
    """The candidates as tune fits them: in the default search, when the run weighs classes and chooses its
    threshold on validation (what `speedrun init` writes for a rare class), xgboost is fitted unweighted: the
    threshold makes the decision the weights would, and the weights cost boosted trees ranking quality (on a
    rare class, a weighted log loss on validation also stops them within a few rounds)."""
    threshold_decides = isinstance(train.threshold, ThresholdObjective) and train.class_weight == "balanced"
    if not (default_search and threshold_decides):
        return candidates
    return [{"class_weight": "none", **c} if c["type"] == "xgboost" else c for c in candidates]


def tuning_metric(search: SearchConfig, contract: Contract) -> str:
    return search.metric or ("areaUnderROC" if len(contract.classes) == 2 else "logLoss")


def describe(params: dict[str, Any]) -> str:
    return params["type"] + " " + " ".join(f"{k}={v}" for k, v in params.items() if k != "type")


def is_better(value: float, best: float | None, metric: str) -> bool:
    if best is None:
        return True
    return value < best if metric in LOWER_IS_BETTER else value > best
