"""Offline validation of the Databricks asset bundle (no workspace is needed).

Every job goes through the `databricks-bundles` package's typed resources, which reject unknown keys and
bad types; then cross-references are checked: task keys unique, `depends_on` targets exist, job clusters
defined, entry points in the installed wheel's console scripts, referenced files present, `${var.x}` and
`{{job.parameters.x}}` declared, and each task's `--config`/`--set` arguments load as a valid config.

Run as a script (`make validate-bundle`) to print the problems, or call `bundle_problems(root)`.
"""

from __future__ import annotations

import glob
import itertools
import re
import sys
from importlib.metadata import distribution
from pathlib import Path
from typing import Any

import yaml
from databricks.bundles.jobs import Job
from databricks.bundles.schemas import Schema
from databricks.bundles.volumes import Volume

TYPED_RESOURCES = {"jobs": Job, "schemas": Schema, "volumes": Volume}
BUNDLE_KEYS = {
    "bundle",
    "include",
    "artifacts",
    "variables",
    "targets",
    "workspace",
    "resources",
    "permissions",
    "run_as",
    "sync",
    "presets",
    "experimental",
}
TARGET_KEYS = {
    "mode",
    "default",
    "workspace",
    "variables",
    "run_as",
    "permissions",
    "resources",
    "presets",
    "artifacts",
    "cluster_id",
    "git",
    "sync",
    "bundle",
}
VAR_REF = re.compile(r"\$\{var\.([A-Za-z0-9_-]+)\}")
JOB_PARAM_REF = re.compile(r"\{\{job\.parameters\.([A-Za-z0-9_-]+)\}\}")
DYNAMIC_REF = re.compile(r"\{\{[^}]+\}\}")


def load_bundle(root: Path) -> tuple[dict[str, Any], dict[str, Path]]:
    """The bundle's root mapping with the resources of every included file; and where each resource is defined."""
    bundle = yaml.safe_load((root / "databricks.yml").read_text())
    resources: dict[str, dict[str, Any]] = {}
    origin: dict[str, Path] = {}
    for pattern in bundle.get("include", []):
        for path in sorted(root.glob(pattern)):
            for kind, items in (yaml.safe_load(path.read_text()) or {}).get("resources", {}).items():
                for name, spec in items.items():
                    resources.setdefault(kind, {})[name] = spec
                    origin[f"{kind}.{name}"] = path
    bundle["resources"] = resources
    return bundle, origin


def console_scripts() -> set[str]:
    return {ep.name for ep in distribution("speedrun").entry_points if ep.group == "console_scripts"}


def job_problems(name: str, job: dict[str, Any], where: Path) -> list[str]:
    problems = []
    if not job.get("email_notifications", {}).get("on_failure"):
        problems.append(f"job {name}: no email_notifications.on_failure: nobody hears of a failed run")
    for key in ("timeout_seconds", "max_concurrent_runs"):
        if not job.get(key):
            problems.append(f"job {name}: no {key}")
    tasks = job.get("tasks", [])
    keys = [task.get("task_key") for task in tasks]
    problems += [f"job {name}: task key {k!r} is used twice" for k in {k for k in keys if keys.count(k) > 1}]
    clusters = {c.get("job_cluster_key") for c in job.get("job_clusters", [])}
    params = {p["name"] for p in job.get("parameters", [])}
    scripts = console_scripts()
    for task in tasks:
        label = f"job {name}, task {task.get('task_key')}"
        for dep in task.get("depends_on", []):
            if dep.get("task_key") not in keys:
                problems.append(f"{label}: depends on unknown task {dep.get('task_key')!r}")
        if task.get("job_cluster_key") and task["job_cluster_key"] not in clusters:
            problems.append(f"{label}: job_cluster_key {task['job_cluster_key']!r} is not defined in job_clusters")
        wheel = task.get("python_wheel_task")
        if wheel:
            if wheel.get("entry_point") not in scripts:
                problems.append(f"{label}: entry point {wheel.get('entry_point')!r} is not in [project.scripts]")
            problems += [f"{label}: {p}" for p in task_config_problems(wheel.get("parameters", []))]
        for library in task.get("libraries", []):
            for path in library.values():
                if (
                    isinstance(path, str)
                    and not path.startswith("../dist/")
                    and not glob.glob(str(where.parent / path))
                ):
                    problems.append(f"{label}: library {path} does not exist")
        for ref in JOB_PARAM_REF.findall(yaml.safe_dump(task)):
            if ref not in params:
                problems.append(f"{label}: {{{{job.parameters.{ref}}}}} is not a parameter of the job")
    return problems


def task_config_problems(arguments: list[str]) -> list[str]:
    """The task's `--config` resolves (from the installed wheel) and its `--set`s make a valid config."""
    from speedrun.config import load_config
    from speedrun.errors import SpeedrunError

    config, overrides = "default", []
    for flag, value in itertools.pairwise(arguments):
        if flag == "--config":
            config = value
        elif flag == "--set":
            overrides.append(DYNAMIC_REF.sub("sample", value))
    try:
        load_config(config, overrides)
    except SpeedrunError as exc:
        return [str(exc)]
    return []


def resolved_variables(bundle: dict[str, Any], target: str) -> dict[str, Any]:
    """The variables' values in `target`: their defaults, overridden by the target's."""
    values = {name: spec.get("default") for name, spec in bundle.get("variables", {}).items()}
    return values | bundle["targets"][target].get("variables", {})


def target_problems(bundle: dict[str, Any]) -> list[str]:
    """Each target's resolved settings: production targets run as someone and keep their own root path;
    schedules run only in prod."""
    problems = []
    for target, spec in bundle.get("targets", {}).items():
        values = resolved_variables(bundle, target)
        pause = values.get("schedule_pause_status")
        if pause not in ("PAUSED", "UNPAUSED"):
            problems.append(f"target {target}: schedule_pause_status is {pause!r}, not PAUSED or UNPAUSED")
        elif (pause == "UNPAUSED") != (target == "prod"):
            problems.append(f"target {target}: schedules are {pause}; they run only in prod")
        if spec.get("mode") == "production":
            if not spec.get("run_as"):
                problems.append(f"target {target}: production mode without run_as")
            if not spec.get("workspace", {}).get("root_path"):
                problems.append(f"target {target}: production mode without an explicit workspace.root_path")
    schemas = {t: resolved_variables(bundle, t).get("schema") for t in bundle.get("targets", {})}
    if len(set(schemas.values())) != len(schemas):
        problems.append(f"targets share a schema: {schemas}")
    return problems


def bundle_problems(root: Path) -> list[str]:
    bundle, origin = load_bundle(root)
    problems = [f"databricks.yml: unknown top-level key {k!r}" for k in sorted(set(bundle) - BUNDLE_KEYS)]
    if not bundle.get("bundle", {}).get("name"):
        problems.append("databricks.yml: bundle.name is missing")
    declared = set(bundle.get("variables", {}))
    for target, spec in (bundle.get("targets") or {}).items():
        problems += [f"target {target}: unknown key {k!r}" for k in sorted(set(spec) - TARGET_KEYS)]
        problems += [
            f"target {target}: sets undeclared variable {v!r}"
            for v in sorted(set(spec.get("variables", {})) - declared)
        ]
    for kind, items in bundle["resources"].items():
        typed = TYPED_RESOURCES.get(kind)
        for name, spec in items.items():
            if typed is None:
                problems.append(f"{kind}.{name}: no offline check for resources of kind {kind!r}")
                continue
            try:
                typed.from_dict(spec)
            except (ValueError, TypeError) as exc:
                problems.append(f"{kind}.{name} ({origin[f'{kind}.{name}'].name}): {exc}")
                continue
            if kind == "jobs":
                problems += job_problems(name, spec, origin[f"{kind}.{name}"])
    problems += target_problems(bundle)
    used = set(VAR_REF.findall(yaml.safe_dump(bundle)))
    problems += [f"${{var.{v}}} is used but not declared in databricks.yml variables" for v in sorted(used - declared)]
    return problems


if __name__ == "__main__":
    found = bundle_problems(Path(__file__).resolve().parents[1])
    print("\n".join(found) or "bundle OK: every job, target, variable and entry point checks out")
    sys.exit(1 if found else 0)
