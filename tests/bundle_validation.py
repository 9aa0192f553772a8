"""Offline validation of the Databricks asset bundle (no workspace is needed).

Every job goes through the `databricks-bundles` package's typed resources, which reject unknown keys and
bad types; then cross-references are checked: task keys unique, `depends_on` targets exist, job clusters
defined, entry points in the installed wheel's console scripts, referenced files present, `${var.x}` and
`{{job.parameters.x}}` declared, and in each target each task's `--config`/`--set` arguments load as a valid
config whose files are in the bundle.

Run as a script (`make validate-bundle`) to print the problems, or call `bundle_problems(root)`.
"""

from __future__ import annotations

import functools
import glob
import itertools
import re
import sys
from importlib.metadata import distribution
from pathlib import Path
from typing import Any

from bundle_deploy import (
    as_text,
    build_problems,
    cli_version_problems,
    monitor_problems,
    node_type_problems,
    promotion_problems,
    read_yaml,
    start_problems,
    sync_problems,
)
from databricks.bundles.experiments import MlflowExperiment
from databricks.bundles.jobs import Job
from databricks.bundles.quality_monitors import QualityMonitor
from databricks.bundles.schemas import PrivilegeAssignment, Schema
from databricks.bundles.volumes import Volume

TYPED_RESOURCES = {
    "jobs": Job,
    "schemas": Schema,
    "volumes": Volume,
    "experiments": MlflowExperiment,
    "quality_monitors": QualityMonitor,
}
# included once what they attach to exists (databricks.yml says when), and validated with the rest always
OPT_IN = ("resources/monitoring/*.yml",)
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
    """The bundle's root mapping with the resources and target overrides of every included file (and of the
    opt-in ones), merged as the CLI merges them; and where each resource is defined."""
    bundle = read_yaml((root / "databricks.yml").read_text())
    resources: dict[str, dict[str, Any]] = {}
    origin: dict[str, Path] = {}
    for pattern in dict.fromkeys([*bundle.get("include", []), *OPT_IN]):
        for path in sorted(root.glob(pattern)):
            included = read_yaml(path.read_text()) or {}
            for kind, items in included.get("resources", {}).items():
                for name, spec in items.items():
                    resources.setdefault(kind, {})[name] = spec
                    origin[f"{kind}.{name}"] = path
            for target, spec in included.get("targets", {}).items():
                bundle.setdefault("targets", {})[target] = merge(bundle["targets"].get(target) or {}, spec)
    bundle["resources"] = resources
    return bundle, origin


# sequences the CLI merges item by item, matched on these keys; other sequences are replaced
MERGE_KEYS = {"tasks": "task_key", "job_clusters": "job_cluster_key", "environments": "environment_key"}


def not_deployed(bundle: dict[str, Any], origin: dict[str, Path], root: Path) -> set[str]:
    """The resources of opt-in files that `include:` leaves out: checked on their own, not deployed."""
    deployed = {path for pattern in bundle.get("include", []) for path in root.glob(pattern)}
    return {key for key, path in origin.items() if path not in deployed}


def merge(base: Any, override: Any, key: str | None = None) -> Any:
    """`override` merged into `base` (neither changed), as the CLI merges a target's resources into the bundle's."""
    if isinstance(base, dict) and isinstance(override, dict):
        kept = {k: v for k, v in base.items() if k not in override}
        return kept | {k: merge(base[k], v, k) if k in base else v for k, v in override.items()}
    if isinstance(base, list) and isinstance(override, list) and key in MERGE_KEYS:
        match = MERGE_KEYS[key]
        overrides = {item.get(match): item for item in override}
        merged = [
            merge(item, overrides.pop(item.get(match))) if item.get(match) in overrides else item for item in base
        ]
        return merged + list(overrides.values())
    return override


def target_resources(bundle: dict[str, Any], target: str) -> dict[str, Any]:
    """The resources `target` deploys: the bundle's, with the target's merged in."""
    return merge(bundle["resources"], bundle["targets"][target].get("resources") or {})


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
    environments = {e.get("environment_key"): e.get("spec", {}) for e in job.get("environments", [])}
    params = {p["name"] for p in job.get("parameters", [])}
    scripts = console_scripts()
    for task in tasks:
        label = f"job {name}, task {task.get('task_key')}"
        for dep in task.get("depends_on", []):
            if dep.get("task_key") not in keys:
                problems.append(f"{label}: depends on unknown task {dep.get('task_key')!r}")
        problems += compute_problems(label, task, clusters, environments)
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
        for ref in JOB_PARAM_REF.findall(as_text(task)):
            if ref not in params:
                problems.append(f"{label}: {{{{job.parameters.{ref}}}}} is not a parameter of the job")
    return problems


# serverless environments that run every step: Spark ML and MLflow's Spark flavour from 4, DataFrame caching from 5
SERVERLESS_ENVIRONMENT = 5


def compute_problems(label: str, task: dict[str, Any], clusters: set[str], environments: dict[str, Any]) -> list[str]:
    """A task runs on a job cluster of its job, or in a serverless environment of its job recent enough."""
    cluster, environment = task.get("job_cluster_key"), task.get("environment_key")
    if cluster and environment:
        return [f"{label}: both a job cluster and a serverless environment"]
    if cluster:
        return [] if cluster in clusters else [f"{label}: job_cluster_key {cluster!r} is not defined in job_clusters"]
    if environment is None:
        return [f"{label}: no compute (neither job_cluster_key nor environment_key)"]
    if environment not in environments:
        return [f"{label}: environment_key {environment!r} is not defined in environments"]
    version = str(environments[environment].get("environment_version", "0"))
    if not version.isdigit() or int(version) < SERVERLESS_ENVIRONMENT:
        return [
            f"{label}: serverless environment version {version} is older than {SERVERLESS_ENVIRONMENT}, "
            "the first that caches DataFrames"
        ]
    return []


def resolved_text(text: str, params: dict[str, str], values: dict[str, Any], root: Path) -> str:
    """`text` as a task sees it in a target: the job's parameter defaults, the target's variables and the bundle's
    synced files (`${workspace.file_path}` is this checkout) put in; what is given at deploy reads `sample`."""
    text = JOB_PARAM_REF.sub(lambda m: str(params.get(m.group(1), "sample")), text)
    text = VAR_REF.sub(lambda m: str(values.get(m.group(1)) or "sample"), text)  # unset: given at deploy
    text = text.replace("${workspace.file_path}", str(root))
    return DYNAMIC_REF.sub("sample", re.sub(r"\$\{[^}]+\}", "sample", text))


def task_config(arguments: list[str], params: dict[str, str], values: dict[str, Any], root: Path):
    """The config a task loads in a target: its `--config` and `--set`s, resolved (`resolved_text`)."""
    config, overrides = "default", []
    for flag, value in itertools.pairwise(arguments):
        if flag == "--config":
            config = resolved_text(value, params, values, root)
        elif flag == "--set":
            overrides.append(resolved_text(value, params, values, root))
    return _loaded(config, tuple(overrides), _stamp(config))


def _stamp(config: str) -> float | None:
    """A config file's modification time (a test may write it anew), None for a packaged config's name."""
    return Path(config).stat().st_mtime if Path(config).is_file() else None


@functools.lru_cache(maxsize=64)
def _loaded(config: str, overrides: tuple[str, ...], stamp: float | None):
    """One load per config, overrides and file version: a bundle's tasks share their arguments, each target over."""
    from speedrun.config import load_config

    return load_config(config, list(overrides))


def watched_folder_problems(label: str, job: dict[str, Any], arguments: list[str], cfg, resolve) -> list[str]:
    """A job started by files arriving watches the folder its `score --arrived` task reads."""
    url = ((job.get("trigger") or {}).get("file_arrival") or {}).get("url")
    if "--arrived" not in arguments or url is None:
        return []
    given = dict(itertools.pairwise(arguments)).get("--input")
    read = resolve(given) if given else cfg.storage.resolve(cfg.scoring.path)
    if resolve(url).rstrip("/") != read.rstrip("/"):
        return [f"{label}: the file-arrival trigger watches {url}, but the task scores what arrives in {read}"]
    return []


def config_problems(bundle: dict[str, Any], root: Path, left_out: set[str] = frozenset()) -> list[str]:
    """In every target, each task's config loads, and the files a synced config names are in the bundle."""
    from speedrun.edges.files import data_files, local_path
    from speedrun.edges.session import serverless_refusal
    from speedrun.errors import SpeedrunError
    from speedrun.transforms.search import fitted_models

    problems = []
    for target in bundle.get("targets", {}):
        values = resolved_variables(bundle, target)
        for name, job in target_resources(bundle, target).get("jobs", {}).items():
            params = {p["name"]: p.get("default") for p in job.get("parameters", [])}
            for task in job.get("tasks", []):
                wheel = task.get("python_wheel_task") or {}
                label = f"target {target}, job {name}, task {task.get('task_key')}"
                try:
                    cfg = task_config(wheel.get("parameters", []), params, values, root)
                except SpeedrunError as exc:
                    problems.append(f"{label}: {exc}")
                    continue
                resolve = functools.partial(resolved_text, params=params, values=values, root=root)
                problems += watched_folder_problems(label, job, wheel.get("parameters", []), cfg, resolve)
                if wheel.get("entry_point") == "speedrun-score":
                    monitors = target_resources(bundle, target).get("quality_monitors", {})
                    monitors = {k: m for k, m in monitors.items() if f"quality_monitors.{k}" not in left_out}
                    problems += monitor_problems(label, monitors, cfg, resolve)
                if task.get("environment_key") and wheel.get("entry_point") in ("speedrun-train", "speedrun-tune"):
                    tuning = wheel["entry_point"] == "speedrun-tune"
                    refusal = serverless_refusal(fitted_models(cfg.model, cfg.search, tuning))
                    problems += [f"{label}: {refusal}"] if refusal else []
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
            root = str(spec.get("workspace", {}).get("root_path", ""))
            if not root:
                problems.append(f"target {target}: production mode without an explicit workspace.root_path")
            elif "${workspace.current_user" in root:
                problems.append(
                    f"target {target}: root_path {root} is the deployer's: each deployer would get a copy of the "
                    "scheduled jobs; use one fixed path"
                )
            problems += given_at_deploy(bundle, target, spec)
    schemas = {t: resolved_variables(bundle, t).get("schema") for t in bundle.get("targets", {})}
    if len(set(schemas.values())) != len(schemas):
        problems.append(f"targets share a schema: {schemas}")
    return problems


def given_at_deploy(bundle: dict[str, Any], target: str, spec: dict[str, Any]) -> list[str]:
    """Who a production target's jobs run as and who hears of their failures are given at deploy: a default
    would be made up."""
    mail = [job.get("email_notifications") for job in target_resources(bundle, target).get("jobs", {}).values()]
    said = as_text({"run_as": spec.get("run_as"), "mail": mail})
    defaults = {name for name, v in bundle.get("variables", {}).items() if "default" in v}
    return [
        f"target {target}: variable {name} has a default; give it at deploy (--var {name}=...)"
        for name in sorted(set(VAR_REF.findall(said)) & defaults)
        if name not in spec.get("variables", {})
    ]


def naming_problems(bundle: dict[str, Any]) -> list[str]:
    """Jobs of two production targets may share a workspace: their names say the target."""
    production = [t for t, spec in bundle.get("targets", {}).items() if spec.get("mode") == "production"]
    if len(production) < 2:
        return []
    return [
        f"job {name}: its name {job.get('name')!r} is the same in {', '.join(production)}: add ${{bundle.target}}"
        for name, job in bundle["resources"].get("jobs", {}).items()
        if "${bundle.target}" not in str(job.get("name", ""))
    ]


def permission_repeats(bundle: dict[str, Any]) -> list[str]:
    """A resource's own permissions that repeat its target's (which apply to every resource): the CLI warns."""
    problems = []
    for target, spec in bundle.get("targets", {}).items():
        given = spec.get("permissions", [])
        for kind, items in (spec.get("resources") or {}).items():
            for key, resource in items.items():
                problems += [
                    f"target {target}: {kind}.{key} repeats the target's permission {p}"
                    for p in resource.get("permissions", [])
                    if p in given
                ]
    return problems


def reference_problems(bundle: dict[str, Any]) -> list[str]:
    """Jobs name the schema, volume and experiment through the resources that create them: in development mode
    the CLI renames the schema (`dev_<user>_...`) and the experiment, and a job naming them by variable would
    write where nothing was created. An experiment lives in a folder that exists, not under /Workspace/."""
    problems = []
    resources = bundle["resources"]
    shadowed = {"schemas": "${var.schema}", "experiments": "${var.experiment}"}
    for name, job in resources.get("jobs", {}).items():
        text = as_text(job)
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


def resource_problems(target: str, resources: dict[str, Any], origin: dict[str, Path]) -> list[str]:
    """The resources `target` deploys, each through its typed class, and its jobs' cross-references."""
    problems = []
    for kind, items in resources.items():
        typed = TYPED_RESOURCES.get(kind)
        for name, spec in items.items():
            if typed is None:
                problems.append(f"{kind}.{name}: no offline check for resources of kind {kind!r}")
                continue
            try:
                typed.from_dict(spec)
            except (ValueError, TypeError) as exc:
                problems.append(f"target {target}: {kind}.{name} ({origin[f'{kind}.{name}'].name}): {exc}")
                continue
            if kind == "jobs":
                problems += [f"target {target}: {p}" for p in job_problems(name, spec, origin[f"{kind}.{name}"])]
    return problems


def deploy_problems(bundle: dict[str, Any], root: Path) -> list[str]:
    """What a deploy needs: the CLI version, a wheel build from any shell, what is synced, node types."""
    problems = cli_version_problems(bundle) + build_problems(bundle) + start_problems(bundle)
    problems += promotion_problems(bundle)
    configs = {str(resolved_variables(bundle, target).get("config")) for target in bundle.get("targets", {})}
    problems += sync_problems(bundle, root, sorted(configs))
    for target in bundle.get("targets", {}):
        clusters = [job.get("job_clusters") for job in target_resources(bundle, target).get("jobs", {}).values()]
        if any(clusters):
            problems += node_type_problems(bundle, target, resolved_variables(bundle, target))
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
    for target in bundle.get("targets") or {}:
        problems += resource_problems(target, target_resources(bundle, target), origin)
    problems += target_problems(bundle) + reference_problems(bundle) + grant_problems(bundle)
    problems += naming_problems(bundle) + permission_repeats(bundle)
    problems += config_problems(bundle, root, not_deployed(bundle, origin, root)) + deploy_problems(bundle, root)
    used = set(VAR_REF.findall(as_text(bundle)))
    problems += [f"${{var.{v}}} is used but not declared in databricks.yml variables" for v in sorted(used - declared)]
    return problems


if __name__ == "__main__":
    given = dict(arg.split("=", 1) for arg in sys.argv[1:])  # `config=${workspace.file_path}/examples/adult.yml`
    found = bundle_problems(Path(__file__).resolve().parents[1], given)
    print("\n".join(found) or "bundle OK: every job, target, variable and entry point checks out")
    sys.exit(1 if found else 0)
