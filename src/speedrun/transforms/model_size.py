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


def largest_bytes(model: dict[str, Any]) -> int | None:
    """The most memory the model section's trees can take (None: not a Spark tree ensemble)."""
    shape = trees_of(model)
    return None if shape is None else shape[0] * (2 ** (shape[1] + 1) - 1) * NODE_BYTES


def _mb(size: int) -> str:
    return f"{size / 2**20:,.0f} MB"


def serverless_size_refusal(models: list[dict[str, Any]]) -> str | None:
    """Why serverless compute could not keep the models a run fits (`models`: the model sections), if so."""
    sizes = [(model, largest_bytes(model)) for model in models]
    trees = [(model, size) for model, size in sizes if size is not None]
    for model, size in trees:
        if size > SERVERLESS_MODEL_BYTES:
            trees, depth = trees_of(model) or (0, 0)
            return (
                f"model {model['type']} ({trees} trees of depth {depth}) can grow to {_mb(size)}, over serverless "
                f"compute's "
                f"{_mb(SERVERLESS_MODEL_BYTES)} a model: lower max_depth or the number of trees, or run on a target "
                "with job clusters (dev, staging, prod)"
            )
    total = sum(size for _, size in trees)
    if total > SERVERLESS_SESSION_BYTES:
        return (
            f"the search's {len(trees)} tree candidates can grow to {_mb(total)} together, over serverless "
            f"compute's {_mb(SERVERLESS_SESSION_BYTES)} for one session's models: fewer or shallower candidates, or "
            "run on a target with job clusters (dev, staging, prod)"
        )
    return None
