"""Offline validation of the Databricks asset bundle (no workspace is needed).

Every job goes through the `databricks-bundles` package's typed resources, which reject unknown keys and
bad types; then cross-references are checked: task keys unique, `depends_on` targets exist, job clusters
defined, entry points in the installed wheel's console scripts, referenced files present, `${var.x}` and
`{{job.parameters.x}}` declared, and in each target each task's `--config`/`--set` arguments load as a valid
config whose files are in the bundle.

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
from databricks.bundles.experiments import MlflowExperiment
from databricks.bundles.jobs import Job
from databricks.bundles.schemas import PrivilegeAssignment, Schema
from databricks.bundles.volumes import Volume

TYPED_RESOURCES = {"jobs": Job, "schemas": Schema, "volumes": Volume, "experiments": MlflowExperiment}
# what the principal a production job runs as needs on the schema and volume the deployer creates
PRINCIPAL_NEEDS = {
    "schemas": {"USE_SCHEMA", "CREATE_TABLE", "CREATE_MODEL", "SELECT", "MODIFY", "EXECUTE"},
    "volumes": {"READ_VOLUME", "WRITE_VOLUME"},
}
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
        if wheel and wheel.get("entry_point") not in scripts:
            problems.append(f"{label}: entry point {wheel.get('entry_point')!r} is not in [project.scripts]")
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


def task_config(arguments: list[str], params: dict[str, str], values: dict[str, Any], root: Path):
    """The config a task loads in a target: its `--config` and `--set`s with the job's parameter defaults, the
    target's variables and the bundle's synced files (`${workspace.file_path}` is this checkout) put in."""
    from speedrun.config import load_config

    def resolved(text: str) -> str:
        text = JOB_PARAM_REF.sub(lambda m: str(params.get(m.group(1), "sample")), text)
        text = VAR_REF.sub(lambda m: str(values.get(m.group(1)) or "sample"), text)  # unset: given at deploy
        text = text.replace("${workspace.file_path}", str(root))
        return DYNAMIC_REF.sub("sample", re.sub(r"\$\{[^}]+\}", "sample", text))

    config, overrides = "default", []
    for flag, value in itertools.pairwise(arguments):
        if flag == "--config":
            config = resolved(value)
        elif flag == "--set":
            overrides.append(resolved(value))
    return load_config(config, overrides)


def config_problems(bundle: dict[str, Any], root: Path) -> list[str]:
    """In every target, each task's config loads, and the files a synced config names are in the bundle."""
    from speedrun.edges.files import data_files, local_path
    from speedrun.errors import SpeedrunError

    problems = []
    for target in bundle.get("targets", {}):
        values = resolved_variables(bundle, target)
        for name, job in bundle["resources"].get("jobs", {}).items():
            params = {p["name"]: p.get("default") for p in job.get("parameters", [])}
            for task in job.get("tasks", []):
                wheel = task.get("python_wheel_task") or {}
                label = f"target {target}, job {name}, task {task.get('task_key')}"
                try:
                    cfg = task_config(wheel.get("parameters", []), params, values, root)
                except SpeedrunError as exc:
                    problems.append(f"{label}: {exc}")
                    continue
                for source in filter(None, (cfg.source, cfg.test_source)):
                    path = cfg.storage.resolve(source.path)
                    if local_path(path) is not None and not path.startswith("/Volumes/") and not data_files(path):
                        problems.append(f"{label}: {path} (from the config) is not in the bundle")
    return problems


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


def reference_problems(bundle: dict[str, Any]) -> list[str]:
    """Jobs name the schema, volume and experiment through the resources that create them: in development mode
    the CLI renames the schema (`dev_<user>_...`) and the experiment, and a job naming them by variable would
    write where nothing was created. An experiment lives in a folder that exists, not under /Workspace/."""
    problems = []
    resources = bundle["resources"]
    shadowed = {"schemas": "${var.schema}", "experiments": "${var.experiment}"}
    for name, job in resources.get("jobs", {}).items():
        text = yaml.safe_dump(job)
        for kind, variable in shadowed.items():
            if resources.get(kind) and variable in text:
                problems.append(
                    f"job {name}: names {variable} while the bundle creates it as a resource: "
                    f"refer to ${{resources.{kind}.<key>.name}}"
                )
        for path in re.findall(r"/Volumes/[^\s,\]\"']+", text):
            if path.count("/") >= 4 and not re.match(r"/Volumes/[^/]+/[^/]+/(\{\{|\$\{)", path):
                problems.append(f"job {name}: {path} names the volume itself, not the bundle's volume resource")
    for target in bundle.get("targets", {}):
        values = resolved_variables(bundle, target)
        for name, experiment in resources.get("experiments", {}).items():
            path = VAR_REF.sub(lambda m, v=values: str(v.get(m.group(1))), str(experiment.get("name", "")))
            where = f"target {target}: experiments.{name}: {path}"
            if path.startswith("/Workspace/"):
                problems.append(f"{where} starts with /Workspace/, which MLflow does not find again by name")
            elif not re.match(r"^/(Shared|Users/[^/]+)/[^/]+$", path):
                problems.append(f"{where} is not directly in /Shared or /Users/<user>: MLflow creates no folders")
    return problems


def grant_problems(bundle: dict[str, Any]) -> list[str]:
    """A production target whose jobs run as a service principal grants it what it needs; its root path is one
    that only the deployer can write (the wheel there runs as the principal)."""
    problems = []
    for target, spec in bundle.get("targets", {}).items():
        if spec.get("mode") != "production":
            continue
        if str(spec.get("workspace", {}).get("root_path", "")).startswith(("/Workspace/Shared", "/Shared")):
            problems.append(f"target {target}: root_path is under /Workspace/Shared, which every user can write")
        principal = spec.get("run_as", {}).get("service_principal_name")
        if principal is None:
            continue
        overrides = spec.get("resources", {})
        for kind, needed in PRINCIPAL_NEEDS.items():
            for key in bundle["resources"].get(kind, {}):
                granted = set()
                for grant in overrides.get(kind, {}).get(key, {}).get("grants", []):
                    PrivilegeAssignment.from_dict(grant)
                    if grant.get("principal") == principal:
                        granted |= set(grant.get("privileges", []))
                if needed - granted:
                    problems.append(
                        f"target {target}: {kind}.{key} does not grant {', '.join(sorted(needed - granted))} "
                        f"to {principal}, whom the jobs run as"
                    )
    return problems


def bundle_problems(root: Path, variables: dict[str, str] | None = None) -> list[str]:
    """Every problem found; `variables` as given on the command line (`--var name=value`), in every target."""
    bundle, origin = load_bundle(root)
    for target in bundle.get("targets", {}).values():
        target.setdefault("variables", {}).update(variables or {})
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
    problems += target_problems(bundle) + reference_problems(bundle) + grant_problems(bundle)
    problems += config_problems(bundle, root)
    used = set(VAR_REF.findall(yaml.safe_dump(bundle)))
    problems += [f"${{var.{v}}} is used but not declared in databricks.yml variables" for v in sorted(used - declared)]
    return problems


if __name__ == "__main__":
    given = dict(arg.split("=", 1) for arg in sys.argv[1:])  # `config=${workspace.file_path}/examples/adult.yml`
    found = bundle_problems(Path(__file__).resolve().parents[1], given)
    print("\n".join(found) or "bundle OK: every job, target, variable and entry point checks out")
    sys.exit(1 if found else 0)
