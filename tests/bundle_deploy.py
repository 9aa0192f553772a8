"""Offline checks of what a deploy needs beyond valid resources: the CLI version the bundle's features need, a
wheel build that does not depend on the shell, the files synced to the workspace, and node types of the
workspace's cloud. Part of `bundle_problems` (`make validate-bundle`)."""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import yaml
from packaging.version import Version

from speedrun.config.yaml_files import LOADER


def read_yaml(text: str) -> Any:
    return yaml.load(text, Loader=LOADER)


def as_text(node: Any) -> str:
    """Every key and string of `node` in one text, for the references they hold (JSON: no line is folded)."""
    return json.dumps(node, default=str)


# the first CLI release that deploys each feature; an older one drops it without a word
CLI_NEEDED = {
    "environment_version": ("0.252.0", "a serverless environment_version"),
    "dynamic_version": ("0.245.0", "an artifact's dynamic_version"),
    "model": ("0.279.0", "a job's model trigger"),
}
# node type names by cloud, and the cloud of a workspace by its host
NODE_TYPES = {
    "AWS": re.compile(r"^[a-z]+\d[a-z0-9-]*\.\d*[a-z]+$"),  # i3.xlarge, m5d.2xlarge, g4dn.xlarge
    "Azure": re.compile(r"^Standard_\w+$"),  # Standard_D4ds_v5
    "GCP": re.compile(r"^[a-z]\d[a-z]?-[a-z0-9]+-\d+\w*$"),  # n2-highmem-4, e2-standard-8
}
EXAMPLE_NODE = {"AWS": "i3.xlarge", "Azure": "Standard_D4ds_v5", "GCP": "n2-highmem-4"}
# what a job needs in the workspace; the rest of the checkout stays on the deployer's machine
NOT_SYNCED = ("tests/", "benchmarks/", "docs/", "src/", ".ci/")


def cloud_of(host: str) -> str:
    if "azuredatabricks.net" in host:
        return "Azure"
    return "GCP" if "gcp.databricks.com" in host else "AWS"


def used_features(bundle: dict[str, Any]) -> set[str]:
    text = as_text(bundle)
    found = {key for key in ("environment_version", "dynamic_version") if f'"{key}":' in text}
    for job in bundle["resources"].get("jobs", {}).values():
        found |= {"model"} if (job.get("trigger") or {}).get("model") else set()
    return found


def cli_version_problems(bundle: dict[str, Any]) -> list[str]:
    """The bundle asks for a CLI at least as new as the newest feature it uses needs (`>= X.Y.Z`)."""
    said = str(bundle.get("bundle", {}).get("databricks_cli_version", ""))
    least = re.fullmatch(r"\s*>=\s*(\d+\.\d+\.\d+)\s*", said)
    if least is None:
        return [f"databricks.yml: bundle.databricks_cli_version is {said!r}, not '>= X.Y.Z'"]
    return [
        f"databricks.yml: databricks_cli_version {said!r} lets CLI {least.group(1)} deploy, which drops {why} "
        f"(from {needed})"
        for needed, why in (CLI_NEEDED[f] for f in sorted(used_features(bundle)))
        if Version(least.group(1)) < Version(needed)
    ]


def build_problems(bundle: dict[str, Any]) -> list[str]:
    """An artifact build that runs the shell's own `python`/`python3` needs that Python to have the build
    package: from a plain shell it fails."""
    return [
        f"artifacts.{name}: build {spec['build']!r} uses the shell's Python, which may lack the `build` package; "
        "use `uv build --wheel` (docs/deploy.md)"
        for name, spec in bundle.get("artifacts", {}).items()
        if re.match(r"^\s*python3?\s", str(spec.get("build", "")))
    ]


def synced_files(bundle: dict[str, Any], root: Path) -> list[str]:
    """The files a deploy uploads: git's files under `sync.paths` (default: all), plus `include`, less `exclude`
    (the CLI's rule; these checks use only `paths`)."""
    paths = bundle.get("sync", {}).get("paths", ["."])
    listed = subprocess.run(["git", "ls-files", "--", *paths], cwd=root, capture_output=True, text=True)
    if listed.returncode == 0:
        return listed.stdout.split()
    found = [p for path in paths for p in ([root / path] if (root / path).is_file() else (root / path).rglob("*"))]
    return sorted(str(p.relative_to(root)) for p in found if p.is_file())  # a copy outside git: every file


def sync_problems(bundle: dict[str, Any], root: Path, configs: list[str]) -> list[str]:
    """Nothing a job does not read is uploaded; every synced config `configs` name is."""
    if bundle.get("sync", {}).get("include") or bundle.get("sync", {}).get("exclude"):
        return ["databricks.yml: sync gives include or exclude patterns; these checks follow only sync.paths"]
    files = synced_files(bundle, root)
    unread = [f for f in files if f.startswith(NOT_SYNCED)]
    problems = [f"sync: {f} is uploaded to the workspace, and no job reads it" for f in unread]
    for config in configs:
        relative = config.replace("${workspace.file_path}/", "", 1)
        if config.startswith("${workspace.file_path}/") and relative not in files:
            problems.append(f"config {config}: {relative} is not synced (sync.paths: {bundle['sync'].get('paths')})")
    return problems


def node_type_problems(bundle: dict[str, Any], target: str, values: dict[str, Any]) -> list[str]:
    """A target with job clusters has a node type of its workspace's cloud (its host: the target's, the
    bundle's, or DATABRICKS_HOST); with no node type given, it must be given at deploy (no default)."""
    node = values.get("node_type_id")
    spec = bundle["variables"].get("node_type_id", {})
    if "default" in spec:
        return [f"variable node_type_id has a default ({spec['default']}): a node type exists on one cloud only"]
    if not node:
        return []
    clouds = [cloud for cloud, pattern in NODE_TYPES.items() if pattern.match(str(node))]
    if not clouds:
        return [f"target {target}: node_type_id {node!r} is no node type of AWS, Azure or GCP"]
    workspace = bundle["targets"][target].get("workspace") or bundle.get("workspace") or {}
    host = workspace.get("host") or os.environ.get("DATABRICKS_HOST")
    if host and cloud_of(host) not in clouds:
        cloud = cloud_of(host)
        return [
            f"target {target}: node_type_id {node} is a node type of {clouds[0]}; the workspace {host} is on {cloud} "
            f"(e.g. {EXAMPLE_NODE[cloud]}): no job cluster would start"
        ]
    return []


STARTS = ("schedule", "trigger", "continuous")


def start_problems(bundle: dict[str, Any]) -> list[str]:
    """A job starts one way: a schedule, a trigger or continuously (the Jobs API takes one of them)."""
    return [
        f"job {name}: {' and '.join(given)}: a job has one of {', '.join(STARTS)}"
        for name, job in bundle["resources"].get("jobs", {}).items()
        if len(given := [key for key in STARTS if job.get(key)]) > 1
    ]


def monitor_problems(label: str, monitors: dict[str, Any], cfg, resolve) -> list[str]:
    """Each predictions monitor watches the table the scoring task (its config `cfg`) writes, by columns every
    predictions table has."""
    from speedrun.edges.tables import Tables
    from speedrun.transforms.scoring import PREDICTION_COLUMNS

    written = Tables(cfg).location("predictions")
    problems = []
    for key, monitor in monitors.items():
        watched = resolve(str(monitor.get("table_name", "")))
        if watched != written:
            problems.append(
                f"{label}: quality_monitors.{key} watches {watched}, but the task writes {written}: "
                f"set the variable dataset to the config's name ({cfg.name})"
            )
        log = monitor.get("inference_log") or {}
        used = [log.get(k) for k in ("prediction_col", "prediction_proba_col", "model_id_col", "timestamp_col")]
        problems += [
            f"quality_monitors.{key}: column {c} is not in a predictions table ({', '.join(PREDICTION_COLUMNS)})"
            for c in used
            if c is not None and c not in PREDICTION_COLUMNS
        ]
    return problems


def promotion_problems(bundle: dict[str, Any]) -> list[str]:
    """A job started by a model's alias validates the version that alias names, and the alias is the one
    speedrun's evaluate sets once a version's test metrics are recorded."""
    from speedrun.edges.registry import CANDIDATE

    problems = []
    for name, job in bundle["resources"].get("jobs", {}).items():
        watched = ((job.get("trigger") or {}).get("model") or {}).get("aliases") or []
        if not watched:
            continue
        if CANDIDATE not in watched:
            problems.append(f"job {name}: its model trigger watches {watched}; evaluate sets the alias {CANDIDATE}")
        for task in job.get("tasks", []):
            wheel = task.get("python_wheel_task") or {}
            arguments = wheel.get("parameters", [])
            given = dict(itertools.pairwise(arguments)).get("--version")
            if wheel.get("entry_point") == "speedrun-validate" and given not in watched:
                problems.append(
                    f"job {name}, task {task.get('task_key')}: validates --version {given}, not the version "
                    f"its trigger's alias names ({', '.join(watched)})"
                )
    return problems
