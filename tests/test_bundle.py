"""The Databricks bundle, validated offline, and the wheel it deploys."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from bundle_validation import bundle_problems, load_bundle, resolved_variables, task_config
from tests_support import ROOT


def copy_bundle(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "databricks.yml", tmp_path / "databricks.yml")
    shutil.copytree(ROOT / "resources", tmp_path / "resources")
    return tmp_path


def edit_training_job(root: Path, edit) -> None:
    path = root / "resources" / "training.job.yml"
    data = yaml.safe_load(path.read_text())
    edit(data["resources"]["jobs"]["training"])
    path.write_text(yaml.safe_dump(data))


def test_the_bundle_validates_offline() -> None:
    assert bundle_problems(ROOT) == []


def test_scoring_job_scores_daily_batches_with_the_champion() -> None:
    bundle, _ = load_bundle(ROOT)
    job = bundle["resources"]["jobs"]["scoring"]
    (task,) = job["tasks"]
    arguments = task["python_wheel_task"]["parameters"]
    assert task["python_wheel_task"]["entry_point"] == "speedrun-score"
    assert arguments[arguments.index("--batch-id") + 1] == "{{job.start_time.iso_date}}"
    assert job["schedule"]["quartz_cron_expression"] == "0 0 5 * * ?"


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
        "validate": ["evaluate"],
        "promote": ["validate"],
        "ingest": [],
        "prepare": ["ingest"],
        "split": ["prepare"],
        "train": ["split"],
        "evaluate": ["train"],
    }
    assert {c["new_cluster"]["spark_version"] for c in job["job_clusters"]} == {"17.3.x-scala2.13"}
    assert job["max_concurrent_runs"] == 1 and job["timeout_seconds"] > 0
    assert all(t["max_retries"] >= 1 for t in job["tasks"] if t["task_key"] != "validate")
    assert set(bundle["targets"]) == {"dev", "staging", "prod"}
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
        (lambda job: job["tasks"][0].update(job_cluster_key="big"), "job_cluster_key 'big' is not defined"),
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
    edit_training_job(root, edit)
    # WHEN it is validated THEN the mistake is reported
    problems = bundle_problems(root)
    assert any(problem in p for p in problems), problems


def test_the_wheel_carries_the_config_and_entry_points_the_tasks_use(tmp_path: Path) -> None:
    # GIVEN the wheel that the bundle's artifact builds
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
    )
    wheel = zipfile.ZipFile(next(tmp_path.glob("speedrun-*.whl")))
    entry_points = next(n for n in wheel.namelist() if n.endswith("entry_points.txt"))
    scripts = wheel.read(entry_points).decode()
    bundle, _ = load_bundle(ROOT)
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
