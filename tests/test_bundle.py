"""The Databricks bundle, validated offline, and the wheel it deploys."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from importlib import resources
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml
from bundle_deploy import (
    EXAMPLE_NODE,
    build_problems,
    cli_version_problems,
    node_type_problems,
    sync_problems,
    synced_files,
)
from bundle_validation import (
    bundle_problems,
    compute_problems,
    deploy_problems,
    load_bundle,
    resolved_variables,
    target_resources,
    task_config,
)
from packaging.requirements import Requirement
from packaging.version import Version
from tests_support import ROOT

from speedrun.edges.registry import CANDIDATE

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib


def copy_bundle(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "databricks.yml", tmp_path / "databricks.yml")
    shutil.copytree(ROOT / "resources", tmp_path / "resources")
    return tmp_path


def edit_job(root: Path, name: str, edit) -> None:
    """`edit` applied to job `name` of the bundle copied to `root` (in its `resources/<name>.job.yml`)."""
    path = root / "resources" / f"{name}.job.yml"
    data = yaml.safe_load(path.read_text())
    edit(data["resources"]["jobs"][name])
    path.write_text(yaml.safe_dump(data))


def test_the_bundle_validates_offline() -> None:
    assert bundle_problems(ROOT) == []


def test_scoring_job_starts_when_batches_arrive_and_gives_their_drift_verdict_once() -> None:
    # GIVEN the bundle's scoring job
    bundle, _ = load_bundle(ROOT)
    job = bundle["resources"]["jobs"]["scoring"]
    score, drift = job["tasks"]
    arguments = score["python_wheel_task"]["parameters"]
    # THEN files arriving in the volume's scoring folder start it (paused outside prod), and its score task
    # scores the batch folders that arrived there, each named after its folder
    watched = job["trigger"]["file_arrival"]["url"]
    assert watched.startswith("/Volumes/${var.catalog}/") and watched.endswith("/raw/score/")
    assert job["trigger"]["pause_status"] == "${var.schedule_pause_status}" and "schedule" not in job
    assert score["python_wheel_task"]["entry_point"] == "speedrun-score" and "--arrived" in arguments
    assert "--batch-id" not in arguments
    # AND the scoring task retries, so it leaves the drift verdict to a task that does not: a drifted batch fails once
    assert "--no-drift-verdict" in arguments and score["max_retries"] > 0
    verdict = drift["python_wheel_task"]["parameters"]
    assert drift["python_wheel_task"]["entry_point"] == "speedrun-drift" and drift["max_retries"] == 0
    assert drift["depends_on"] == [{"task_key": "score"}] and "--arrived" in verdict


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (
            lambda job: job.update(schedule={"quartz_cron_expression": "0 0 5 * * ?", "timezone_id": "UTC"}),
            "job scoring: schedule and trigger: a job has one of schedule, trigger, continuous",
        ),
        (
            lambda job: job["trigger"]["file_arrival"].update(url="/Volumes/${var.catalog}/x/y/raw/batches/"),
            "task score: the file-arrival trigger watches /Volumes/${var.catalog}/x/y/raw/batches/, but the task "
            "scores what arrives in /Volumes/sample/sample/sample/raw/score",
        ),
    ],
)
def test_a_scoring_job_started_two_ways_or_watching_another_folder_is_caught(tmp_path: Path, edit, problem) -> None:
    # GIVEN a copy of the bundle whose scoring job also has a schedule, or watches a folder it does not score
    root = copy_bundle(tmp_path)
    edit_job(root, "scoring", edit)
    # WHEN it is validated THEN the mistake is reported
    problems = bundle_problems(root)
    assert any(problem in p for p in problems), problems


@pytest.mark.parametrize(
    ("target", "pause", "schema"),
    [("dev", "PAUSED", "speedrun_dev"), ("staging", "PAUSED", "speedrun_staging"), ("prod", "UNPAUSED", "speedrun")],
)
def test_each_target_resolves_its_own_schema_and_schedule(target: str, pause: str, schema: str) -> None:
    bundle, _ = load_bundle(ROOT)
    values = resolved_variables(bundle, target)
    assert (values["schedule_pause_status"], values["schema"]) == (pause, schema)


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (
            lambda b: b["targets"]["dev"].setdefault("variables", {}).update(schedule_pause_status="UNPAUSED"),
            "target dev: schedules are UNPAUSED; they run only in prod",
        ),
        (lambda b: b["targets"]["prod"].pop("run_as"), "target prod: production mode without run_as"),
        (lambda b: b["targets"]["staging"]["variables"].update(schema="speedrun"), "targets share a schema"),
        (
            lambda b: b["targets"]["prod"]["workspace"].update(root_path="/Workspace/Shared/.bundle/speedrun/prod"),
            "target prod: root_path is under /Workspace/Shared, which every user can write",
        ),
        (
            lambda b: b["targets"]["prod"].update(resources={}),
            "target prod: schemas.speedrun_schema does not grant CREATE_MODEL, CREATE_TABLE, EXECUTE, MODIFY, "
            "SELECT, USE_SCHEMA to ${var.service_principal}",
        ),
        (
            lambda b: b["variables"]["experiment"].update(default="/Workspace/Shared/speedrun/churn-${bundle.target}"),
            "starts with /Workspace/, which MLflow does not find again by name",
        ),
        (
            lambda b: b["variables"]["experiment"].update(default="/Shared/speedrun/churn-${bundle.target}"),
            "is not directly in /Shared or /Users/<user>: MLflow creates no folders",
        ),
        (
            lambda b: b["targets"]["prod"]["workspace"].update(
                root_path="/Workspace/Users/${workspace.current_user.userName}/.bundle/${bundle.name}/prod"
            ),
            "target prod: root_path /Workspace/Users/${workspace.current_user.userName}/.bundle/${bundle.name}/prod "
            "is the deployer's: each deployer would get a copy of the scheduled jobs",
        ),
        (
            lambda b: b["variables"]["notification_email"].update(default="alerts@example.com"),
            "target prod: variable notification_email has a default; give it at deploy",
        ),
        (
            lambda b: b["variables"]["service_principal"].update(default="00000000-0000-0000-0000-000000000000"),
            "target staging: variable service_principal has a default; give it at deploy",
        ),
        (
            lambda b: b["targets"]["prod"]["resources"].update(
                experiments={
                    "speedrun_experiment": {
                        "permissions": [{"service_principal_name": "${var.service_principal}", "level": "CAN_MANAGE"}]
                    }
                }
            ),
            "target prod: experiments.speedrun_experiment repeats the target's permission",
        ),
    ],
)
def test_a_broken_target_is_caught(tmp_path: Path, edit, problem: str) -> None:
    root = copy_bundle(tmp_path)
    data = yaml.safe_load((root / "databricks.yml").read_text())
    edit(data)
    (root / "databricks.yml").write_text(yaml.safe_dump(data))
    assert any(problem in p for p in bundle_problems(root)), bundle_problems(root)


def test_no_job_names_a_config_the_bundle_variable_does() -> None:
    # GIVEN the jobs' definitions THEN every task's config is the job's `config` parameter, whose default is the
    # bundle variable: one place names the dataset
    bundle, _ = load_bundle(ROOT)
    for job in bundle["resources"]["jobs"].values():
        assert {"name": "config", "default": "${var.config}"} in job["parameters"]
        for task in job["tasks"]:
            arguments = task["python_wheel_task"]["parameters"]
            assert arguments[arguments.index("--config") + 1] == "{{job.parameters.config}}"
    assert "--config, default" not in "".join(p.read_text() for p in (ROOT / "resources").glob("*.yml"))


def test_a_second_dataset_deploys_by_changing_the_config_variable_only() -> None:
    # GIVEN the bundle as it is, deployed with another config: `--var config=.../examples/adult.yml`
    adult = {"config": "${workspace.file_path}/examples/adult.yml"}
    # THEN it validates in every target: each task loads that config, and the files it names are in the bundle
    assert bundle_problems(ROOT, adult) == []
    bundle, _ = load_bundle(ROOT)
    job = bundle["resources"]["jobs"]["training"]
    params = {p["name"]: p["default"] for p in job["parameters"]}
    values = resolved_variables(bundle, "prod") | adult
    cfg = task_config(job["tasks"][0]["python_wheel_task"]["parameters"], params, values, ROOT)
    assert (cfg.name, cfg.storage.catalog) == ("adult", "sample")
    assert cfg.source.path == str(ROOT / "examples" / "adult" / "adult.data")
    # AND a config naming a file the bundle does not hold is caught
    missing = bundle_problems(ROOT, {"config": "${workspace.file_path}/examples/nope.yml"})
    assert any("config file not found" in p for p in missing), missing


def test_the_serverless_target_runs_every_task_in_a_serverless_environment() -> None:
    # GIVEN the jobs the serverless target deploys
    bundle, _ = load_bundle(ROOT)
    jobs = target_resources(bundle, "serverless")["jobs"]
    # THEN no job has a cluster, and every task runs in an environment of version 5 or later with the wheel
    for job in jobs.values():
        assert "job_clusters" not in job
        environments = {e["environment_key"]: e["spec"] for e in job["environments"]}
        for task in job["tasks"]:
            spec = environments[task["environment_key"]]
            assert int(spec["environment_version"]) >= 5 and spec["dependencies"] == ["../dist/*.whl"]
            assert "libraries" not in task and "job_cluster_key" not in task
    # AND the tasks say the target and commit in their arguments (serverless compute has no environment variables)
    arguments = jobs["training"]["tasks"][0]["python_wheel_task"]["parameters"]
    assert arguments[arguments.index("--bundle-target") + 1] == "${bundle.target}"
    assert arguments[arguments.index("--git-commit") + 1] == "${bundle.git.commit}"


def test_an_xgboost_config_is_caught_on_the_serverless_target_only(tmp_path: Path) -> None:
    # GIVEN the bundle with a config of its own whose model is xgboost
    root = copy_bundle(tmp_path)
    config = yaml.safe_load(resources.files("speedrun.conf").joinpath("default.yml").read_text())
    (root / "examples").mkdir()
    (root / "examples" / "xgb.yml").write_text(yaml.safe_dump(config | {"model": {"type": "xgboost"}}))
    # WHEN it is checked THEN its train task is refused on serverless compute, and only there
    found = bundle_problems(root, {"config": "${workspace.file_path}/examples/xgb.yml"})
    assert found == [
        "target serverless, job training, task train: model type xgboost cannot be trained on serverless compute: "
        "it trains in Spark barrier tasks (an RDD API), which serverless compute does not run; choose "
        "logistic_regression, random_forest or gbt (for tuning: a search: without it), or run on a target with job "
        "clusters (dev, staging, prod)"
    ]


@pytest.mark.parametrize(
    ("task", "problem"),
    [
        ({"job_cluster_key": "big"}, "job_cluster_key 'big' is not defined in job_clusters"),
        ({"environment_key": "gpu"}, "environment_key 'gpu' is not defined in environments"),
        ({"environment_key": "old"}, "serverless environment version 4 is older than 5, the first that caches"),
        ({"environment_key": "new", "job_cluster_key": "speedrun"}, "both a job cluster and a serverless environment"),
        ({}, "no compute (neither job_cluster_key nor environment_key)"),
    ],
)
def test_a_task_without_the_compute_it_names_is_caught(task: dict, problem: str) -> None:
    environments = {"old": {"environment_version": "4"}, "new": {"environment_version": "5"}}
    (found,) = compute_problems("task t", task, {"speedrun"}, environments)
    assert found.startswith("task t: ") and problem in found
    assert compute_problems("task t", {"environment_key": "new"}, {"speedrun"}, environments) == []


def test_the_catalog_must_be_given_at_deploy() -> None:
    # `main` does not exist in workspaces whose Unity Catalog was enabled automatically: no guessed default
    bundle, _ = load_bundle(ROOT)
    assert "default" not in bundle["variables"]["catalog"]
    assert all("catalog" not in spec.get("variables", {}) for spec in bundle["targets"].values())


def test_training_job_is_the_pipeline_as_a_dag_on_runtime_17_3() -> None:
    bundle, _ = load_bundle(ROOT)
    job = bundle["resources"]["jobs"]["training"]
    order = {t["task_key"]: [d["task_key"] for d in t.get("depends_on", [])] for t in job["tasks"]}
    assert order == {
        "ingest": [],
        "prepare": ["ingest"],
        "split": ["prepare"],
        "train": ["split"],
        "evaluate": ["train"],
    }
    for target in ("dev", "staging", "prod"):  # on job clusters of Runtime 17.3 LTS
        clusters = target_resources(bundle, target)["jobs"]["training"]["job_clusters"]
        assert {c["new_cluster"]["spark_version"] for c in clusters} == {"17.3.x-scala2.13"}
        for jvm in ("driver", "executor"):  # Spark's large generated methods compiled, as in a local session
            options = {c["new_cluster"]["spark_conf"][f"spark.{jvm}.extraJavaOptions"] for c in clusters}
            assert options == {"-XX:-DontCompileHugeMethods"}
    assert job["max_concurrent_runs"] == 1 and job["timeout_seconds"] > 0
    assert all(t["max_retries"] >= 1 for t in job["tasks"])
    assert set(bundle["targets"]) == {"dev", "serverless", "staging", "prod"}
    assert bundle["targets"]["dev"]["mode"] == "development" and bundle["targets"]["prod"]["mode"] == "production"
    assert bundle["variables"]["schedule_pause_status"]["default"] == "PAUSED"
    # evaluate scores the very run that train fitted in the same job run
    run_ids = {t["task_key"]: t["python_wheel_task"]["parameters"] for t in job["tasks"]}
    assert run_ids["train"][run_ids["train"].index("--run-id") + 1] == "job-{{job.run_id}}"
    assert run_ids["evaluate"][run_ids["evaluate"].index("--run-id") + 1] == "job-{{job.run_id}}"


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (
            lambda job: job["tasks"][1]["depends_on"][0].update(task_key="injest"),
            "task prepare: depends on unknown task 'injest'",
        ),
        (lambda job: job["tasks"][0].update(python_wheel_tsk={}), "Unexpected field 'python_wheel_tsk'"),
        (
            lambda job: job["tasks"][0]["python_wheel_task"].update(entry_point="speedrun-ingst"),
            "entry point 'speedrun-ingst' is not in [project.scripts]",
        ),
        (
            lambda job: job["tasks"].append(
                {"task_key": "extra", "python_wheel_task": job["tasks"][0]["python_wheel_task"]}
            ),
            "target dev: job training, task extra: no compute (neither job_cluster_key nor environment_key)",
        ),
        (lambda job: job["tasks"][0].update(task_key="prepare"), "task key 'prepare' is used twice"),
        (
            lambda job: job["tasks"][2]["python_wheel_task"]["parameters"].extend(["--set", "split.sed=1"]),
            "task split: invalid config (packaged config 'default'): split.sed: unknown key",
        ),
        (
            lambda job: job.update(max_concurrent_runs="${var.concurrency}"),
            "${var.concurrency} is used but not declared",
        ),
        (
            lambda job: job["tasks"][0]["python_wheel_task"]["parameters"].extend(
                ["--set", "name={{job.parameters.x}}"]
            ),
            "{{job.parameters.x}} is not a parameter of the job",
        ),
        (
            lambda job: job["parameters"][1].update(default="${var.schema}"),
            "job training: names ${var.schema} while the bundle creates it as a resource",
        ),
        (
            lambda job: job.update(name="speedrun-training"),
            "job training: its name 'speedrun-training' is the same in staging, prod: add ${bundle.target}",
        ),
        (
            lambda job: job["tasks"][0]["python_wheel_task"]["parameters"].extend(
                ["--set", "storage.work_dir=/Volumes/{{job.parameters.catalog}}/{{job.parameters.schema}}/speedrun"]
            ),
            "names the volume itself, not the bundle's volume resource",
        ),
    ],
)
def test_a_broken_job_is_caught(tmp_path: Path, edit, problem: str) -> None:
    # GIVEN a copy of the bundle with one mistake in the training job
    root = copy_bundle(tmp_path)
    edit_job(root, "training", edit)
    # WHEN it is validated THEN the mistake is reported
    problems = bundle_problems(root)
    assert any(problem in p for p in problems), problems


def plain_shell(tmp_path: Path) -> dict[str, str]:
    """The environment of a fresh shell: the system's tools and uv on PATH, no virtual environment, no Python
    package of this project's installed where the command runs, the machine's certificates and proxy kept."""
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "uv").symlink_to(Path(sys.executable).parent / "uv")
    kept = {k: v for k, v in os.environ.items() if k == "HOME" or re.search(r"CERT|CA_BUNDLE|PROXY", k, re.I)}
    return kept | {"PATH": f"{tools}:/usr/bin:/bin"}


def test_the_wheel_builds_from_a_plain_shell_with_the_entry_points_and_config_the_tasks_use(tmp_path: Path) -> None:
    # GIVEN a copy of what the wheel is made of (the build leaves its build/ folder beside it), and a fresh shell
    project = tmp_path / "project"
    shutil.copytree(ROOT / "src", project / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, project / name)
    bundle, _ = load_bundle(ROOT)
    # WHEN the bundle's artifact build command runs there, as `databricks bundle deploy` runs it
    command = bundle["artifacts"]["speedrun_wheel"]["build"]
    done = subprocess.run(command, shell=True, cwd=project, env=plain_shell(tmp_path), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    wheel = zipfile.ZipFile(next((project / "dist").glob("speedrun-*.whl")))
    entry_points = next(n for n in wheel.namelist() if n.endswith("entry_points.txt"))
    scripts = wheel.read(entry_points).decode()
    config = bundle["variables"]["config"]["default"]
    # THEN every task's entry point, and the packaged config the jobs run by default, are inside it
    for task in bundle["resources"]["jobs"]["training"]["tasks"]:
        assert f"{task['python_wheel_task']['entry_point']} = speedrun.cli:" in scripts
    assert f"speedrun/conf/{config}.yml" in wheel.namelist()
    # AND it requires no Spark of its own: the cluster's runtime has pyspark and Delta (a PyPI pyspark would be
    # installed beside them at every cluster start, and fail without PyPI); only the `local` extra brings them
    metadata = wheel.read(next(n for n in wheel.namelist() if n.endswith("METADATA"))).decode()
    requires = [line.split(":", 1)[1].strip() for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    unconditional = [r for r in requires if "extra ==" not in r]
    assert not [r for r in unconditional if r.startswith(("pyspark", "delta-spark", "mlflow>", "mlflow "))], requires
    assert any(r.startswith("pyspark") and 'extra == "local"' in r for r in requires)
    assert any(r.startswith("mlflow-skinny") for r in unconditional)


def test_the_cluster_and_a_local_run_use_one_pinned_mlflow() -> None:
    # GIVEN the wheel's requirements (what a cluster installs) and the local extra's
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = {
        r.name: r.specifier
        for r in map(Requirement, [*project["dependencies"], *project["optional-dependencies"]["local"]])
    }
    # THEN both pin one MLflow, the one installed here, at least the first that loads a Spark model staged in a
    # /Volumes folder on a dedicated cluster (mlflow/mlflow#18668, fixed in 3.6.0)
    (skinny,), (full,) = list(pins["mlflow-skinny"]), list(pins["mlflow"])
    assert skinny.operator == full.operator == "==" and skinny.version == full.version == version("mlflow")
    assert Version(skinny.version) >= Version("3.6.0")


def test_a_build_with_the_shells_own_python_is_caught() -> None:
    # GIVEN an artifact built by the shell's python3, whose `build` package a plain shell lacks
    bundle = {"artifacts": {"wheel": {"type": "whl", "build": "python3 -m build --wheel"}}}
    # WHEN it is checked THEN it is refused, naming the command that works
    assert build_problems(bundle) == [
        "artifacts.wheel: build 'python3 -m build --wheel' uses the shell's Python, which may lack the `build` "
        "package; use `uv build --wheel` (docs/deploy.md)"
    ]


@pytest.mark.parametrize(
    ("asked", "problem"),
    [
        (">= 0.250.0", "lets CLI 0.250.0 deploy, which drops a serverless environment_version (from 0.252.0)"),
        ("", "bundle.databricks_cli_version is '', not '>= X.Y.Z'"),
    ],
)
def test_a_cli_too_old_for_the_bundles_features_is_caught(asked: str, problem: str) -> None:
    # GIVEN the bundle asking for a CLI older than one of its features needs (or for none)
    bundle, _ = load_bundle(ROOT)
    bundle["bundle"]["databricks_cli_version"] = asked
    # WHEN it is checked THEN the feature a CLI that old would drop is named
    assert any(problem in p for p in cli_version_problems(bundle)), cli_version_problems(bundle)


def test_job_clusters_take_a_node_type_given_at_deploy_for_the_workspaces_cloud() -> None:
    # GIVEN the bundle
    bundle, _ = load_bundle(ROOT)
    # THEN the node type has no default (each cloud names its own) and every job cluster takes it
    assert "default" not in bundle["variables"]["node_type_id"]
    for target in ("dev", "staging", "prod"):
        for job in target_resources(bundle, target)["jobs"].values():
            assert {c["new_cluster"]["node_type_id"] for c in job["job_clusters"]} == {"${var.node_type_id}"}
    # AND a node type of the workspace's cloud passes, for each cloud
    hosts = {"AWS": "https://dbc-1.cloud.databricks.com", "Azure": "https://adb-1.2.azuredatabricks.net"}
    hosts["GCP"] = "https://1.2.gcp.databricks.com"
    for cloud, node in EXAMPLE_NODE.items():
        bundle["targets"]["dev"]["workspace"] = {"host": hosts[cloud]}
        assert node_type_problems(bundle, "dev", {"node_type_id": node}) == []


@pytest.mark.parametrize(
    ("host", "node", "problem"),
    [
        ("https://adb-1.2.azuredatabricks.net", "i3.xlarge", "is a node type of AWS; the workspace "
         "https://adb-1.2.azuredatabricks.net is on Azure (e.g. Standard_D4ds_v5): no job cluster would start"),
        ("https://1.2.gcp.databricks.com", "Standard_D4ds_v5", "of Azure; the workspace https://1.2.gcp.databricks.com "
         "is on GCP (e.g. n2-highmem-4)"),
        ("https://dbc-1.cloud.databricks.com", "n2-highmem-4", "of GCP; the workspace https://dbc-1.cloud.databricks"
         ".com is on AWS (e.g. i3.xlarge)"),
        (None, "large", "node_type_id 'large' is no node type of AWS, Azure or GCP"),
    ],
)  # fmt: skip
def test_a_node_type_of_another_cloud_is_caught(monkeypatch, host: str | None, node: str, problem: str) -> None:
    # GIVEN a workspace host (DATABRICKS_HOST, as the CLI reads it) and a node type given at deploy
    monkeypatch.delenv("DATABRICKS_HOST", raising=False)
    if host:
        monkeypatch.setenv("DATABRICKS_HOST", host)
    # WHEN the bundle's deploy is checked with that node type given (`--var node_type_id=...`)
    bundle, _ = load_bundle(ROOT)
    for target in bundle["targets"].values():
        target.setdefault("variables", {})["node_type_id"] = node
    problems = deploy_problems(bundle, ROOT)
    # THEN every target with job clusters names the mismatch, and the serverless one does not
    assert [p.split(":")[0] for p in problems] == ["target dev", "target staging", "target prod"], problems
    assert all(problem in p for p in problems), problems


def test_a_deploy_uploads_the_example_configs_and_their_data_only() -> None:
    # GIVEN the bundle WHEN the files a deploy syncs to the workspace are listed
    bundle, _ = load_bundle(ROOT)
    files = synced_files(bundle, ROOT)
    # THEN they are the examples' configs and data: no test, benchmark, doc or source file
    assert {"examples/adult.yml", "examples/adult/adult.data", "examples/loans/loans.parquet"} <= set(files)
    assert all(f.startswith("examples/") for f in files), files
    # AND a config variable naming a file that is not synced is caught
    bundle["sync"]["paths"] = ["docs/deploy.md"]
    assert sync_problems(bundle, ROOT, ["${workspace.file_path}/examples/adult.yml"]) == [
        "sync: docs/deploy.md is uploaded to the workspace, and no job reads it",
        "config ${workspace.file_path}/examples/adult.yml: examples/adult.yml is not synced "
        "(sync.paths: ['docs/deploy.md'])",
    ]


def test_a_forest_too_large_for_serverless_compute_is_caught_on_the_serverless_target_only(tmp_path: Path) -> None:
    # GIVEN the bundle with a config of its own whose random forest can outgrow what serverless compute keeps
    root = copy_bundle(tmp_path)
    config = yaml.safe_load(resources.files("speedrun.conf").joinpath("default.yml").read_text())
    (root / "examples").mkdir()
    forest = {"type": "random_forest", "num_trees": 100, "max_depth": 14}
    (root / "examples" / "forest.yml").write_text(yaml.safe_dump(config | {"model": forest}))
    # WHEN it is checked THEN its train task is refused on serverless compute, and only there
    found = bundle_problems(root, {"config": "${workspace.file_path}/examples/forest.yml"})
    assert found == [
        "target serverless, job training, task train: model random_forest (100 trees of depth 14) can grow to "
        "500 MB, over serverless compute's 100 MB a model: lower max_depth or the number of trees, or run on a "
        "target with job clusters (dev, staging, prod)"
    ]


def include_the_monitor(root: Path) -> None:
    """The bundle at `root` with its predictions monitor included, as docs/deploy.md says once the table exists."""
    shutil.copytree(ROOT / "examples", root / "examples")
    bundle = yaml.safe_load((root / "databricks.yml").read_text())
    bundle["include"].append("resources/monitoring/*.yml")
    (root / "databricks.yml").write_text(yaml.safe_dump(bundle))


def test_the_predictions_monitor_is_an_inference_log_of_the_table_scoring_writes(tmp_path: Path) -> None:
    # GIVEN the bundle with its predictions monitor included
    root = copy_bundle(tmp_path)
    include_the_monitor(root)
    bundle, _ = load_bundle(root)
    monitor = bundle["resources"]["quality_monitors"]["predictions_monitor"]
    # THEN it logs each prediction, its probabilities, the model version and the time, daily
    assert monitor["inference_log"] | {"granularities": None} == {
        "problem_type": "PROBLEM_TYPE_CLASSIFICATION",
        "prediction_col": "predicted_class",
        "prediction_proba_col": "probabilities",
        "model_id_col": "model_version",
        "timestamp_col": "scored_at",
        "granularities": None,
    }
    # AND it checks out in every target, and the default deploy leaves it out until the table exists
    assert bundle_problems(root) == []
    assert "resources/monitoring/*.yml" not in load_bundle(ROOT)[0]["include"]


@pytest.mark.parametrize(("dataset", "caught"), [(None, True), ("adult", False)])
def test_a_monitor_watching_another_dataset_than_the_config_is_caught(tmp_path: Path, dataset, caught) -> None:
    # GIVEN the bundle with its monitor included, deployed with the Adult example's config
    root = copy_bundle(tmp_path)
    include_the_monitor(root)
    given = {"config": "${workspace.file_path}/examples/adult.yml"} | ({"dataset": dataset} if dataset else {})
    # WHEN it is validated, with the variable dataset left as it is or set to the config's name
    problems = bundle_problems(root, given)
    # THEN a monitor of churn_predictions, while scoring writes adult_predictions, is named in every target
    said = "quality_monitors.predictions_monitor watches sample.sample.churn_predictions, but the task writes "
    assert (len([p for p in problems if said in p]) == 4) == caught and len(problems) == (4 if caught else 0)


def test_a_broken_monitor_is_caught_even_before_it_is_included(tmp_path: Path) -> None:
    # GIVEN a copy of the bundle whose monitor (not included yet) names a problem type Lakehouse Monitoring lacks
    root = copy_bundle(tmp_path)
    path = root / "resources" / "monitoring" / "predictions.monitor.yml"
    path.write_text(path.read_text().replace("PROBLEM_TYPE_CLASSIFICATION", "PROBLEM_TYPE_RANKING"))
    # WHEN it is validated THEN the typed resource refuses it
    assert any("quality_monitors.predictions_monitor" in p and "RANKING" in p for p in bundle_problems(root))


def test_a_newly_evaluated_version_starts_the_promotion_job_which_validates_then_promotes_it() -> None:
    # GIVEN the bundle's promotion job
    bundle, _ = load_bundle(ROOT)
    job = bundle["resources"]["jobs"]["promotion"]
    validate, promote = job["tasks"]
    # THEN the alias evaluate sets on a version once its test metrics are recorded starts it, for every model of
    # the schema (a notebook's or `speedrun tune`'s too), paused outside prod
    trigger = job["trigger"]
    assert trigger["model"] | {"min_time_between_triggers_seconds": None} == {
        "condition": "MODEL_ALIAS_SET",
        "aliases": [CANDIDATE],
        "securable_name": "${var.catalog}.${resources.schemas.speedrun_schema.name}",
        "min_time_between_triggers_seconds": None,
    }
    assert trigger["pause_status"] == "${var.schedule_pause_status}"
    # AND it validates that version, without retries (a verdict), then promotes the challenger
    arguments = validate["python_wheel_task"]["parameters"]
    assert validate["python_wheel_task"]["entry_point"] == "speedrun-validate" and validate["max_retries"] == 0
    assert arguments[arguments.index("--version") + 1] == CANDIDATE
    assert promote["python_wheel_task"]["entry_point"] == "speedrun-promote"
    assert promote["depends_on"] == [{"task_key": "validate"}]
    # AND the training job no longer validates or promotes: every version goes through this one gate
    assert {t["task_key"] for t in bundle["resources"]["jobs"]["training"]["tasks"]}.isdisjoint({"validate", "promote"})


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (
            lambda job: job["trigger"]["model"].update(aliases=["challenger"]),
            "job promotion: its model trigger watches ['challenger']; evaluate sets the alias candidate",
        ),
        (
            lambda job: job["tasks"][0]["python_wheel_task"]["parameters"].__setitem__(3, "champion"),
            "job promotion, task validate: validates --version champion, not the version its trigger's alias names",
        ),
    ],
)
def test_a_promotion_job_that_would_judge_another_version_is_caught(tmp_path: Path, edit, problem) -> None:
    # GIVEN a copy of the bundle whose promotion job watches another alias, or validates another version
    root = copy_bundle(tmp_path)
    edit_job(root, "promotion", edit)
    # WHEN it is validated THEN the mistake is reported
    problems = bundle_problems(root)
    assert any(problem in p for p in problems), problems
