"""How large a model section's fitted trees can grow in memory (pure: from the config alone), against what
serverless compute keeps: 100 MB a model, 1 GB the models of one session (a search fits all its candidates in
one). A tree of depth d has at most 2^(d+1) - 1 nodes; a node in the JVM holds its split, prediction, impurity
and per-class statistics."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from speedrun.config.models import GBTConfig, ModelConfig, RandomForestConfig

NODE_BYTES = 160
SERVERLESS_MODEL_BYTES = 100 * 2**20
SERVERLESS_SESSION_BYTES = 2**30


def trees_of(model: dict[str, Any]) -> tuple[int, int] | None:
    """How many trees the model section fits, and their depth (None: not a Spark tree ensemble)."""
    parsed = TypeAdapter(ModelConfig).validate_python({k: v for k, v in model.items() if k != "class_weight"})
    if isinstance(parsed, RandomForestConfig):
        return parsed.num_trees, parsed.max_depth
    return (parsed.max_iter, parsed.max_depth) if isinstance(parsed, GBTConfig) else None


def largest_bytes(trees: int, depth: int) -> int:
    """The most memory `trees` trees of depth `depth` can take."""
    return trees * (2 ** (depth + 1) - 1) * NODE_BYTES


def _mb(size: int) -> str:
    return f"{size / 2**20:,.0f} MB"


def serverless_size_refusal(models: list[dict[str, Any]]) -> str | None:
    """Why serverless compute could not keep the models a run fits (`models`: the model sections), if so."""
    shapes = [(model["type"], shape) for model in models if (shape := trees_of(model)) is not None]
    for kind, (trees, depth) in shapes:
        if largest_bytes(trees, depth) > SERVERLESS_MODEL_BYTES:
            return (
                f"model {kind} ({trees} trees of depth {depth}) can grow to {_mb(largest_bytes(trees, depth))}, "
                f"over serverless compute's {_mb(SERVERLESS_MODEL_BYTES)} a model: lower max_depth or the number of "
                "trees, or run on a target with job clusters (dev, staging, prod)"
            )
    total = sum(largest_bytes(*shape) for _, shape in shapes)
    if total > SERVERLESS_SESSION_BYTES:
        return (
            f"the search's {len(shapes)} tree candidates can grow to {_mb(total)} together, over serverless "
            f"compute's {_mb(SERVERLESS_SESSION_BYTES)} for one session's models: fewer or shallower candidates, or "
            "run on a target with job clusters (dev, staging, prod)"
        )
    return None
