"""Runs as separate processes, as users and schedulers start them: two at once on one dataset, and runs killed
with SIGKILL in the middle of each step. Every table stays at a good version and the next run succeeds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from tests_support import ROOT, csv_config, until_the_server_is_idle, write

from speedrun.edges.tables import Tables

pytestmark = [pytest.mark.e2e, pytest.mark.server]

SPEEDRUN = str(Path(sys.executable).parent / "speedrun")
ROLES = ("bronze", "silver", "quarantine", "training_runs", "metrics")


def dataset(tmp_path: Path) -> list[str]:
    """A 3,000-row CSV of our own, and the `--set` options of a run on it in `tmp_path`."""
    body = "".join(f"{i % 97},{'abc'[i % 3]},{(i * 7) % 13},{'yn'[(i % 5) < 2]}\n" for i in range(3000))
    source = write(tmp_path / "raw" / "d.csv", "x,c,z,y\n" + body)
    sets = [
        f"storage.work_dir={tmp_path}",
        f"source.path={source}",
        "source.generate_if_missing=null",
        "columns={id: null, label: {column: y}}",
    ]
    return [arg for s in sets for arg in ("--set", s)]


def start(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen([SPEEDRUN, "run", *args], cwd=ROOT, stderr=subprocess.PIPE, text=True, env=os.environ)


def kill_when_started(args: list[str], step_name: str) -> list[str]:
    """Start a run, SIGKILL it as soon as it says `step_name` started; the lines it wrote until then. The run
    is `--fresh`: with unchanged files, ingest and prepare would be up to date and write nothing to interrupt."""
    run = start([*args, "--fresh"])
    lines = []
    for line in run.stderr:
        lines.append(line)
        if line.startswith(f"[speedrun] {step_name} ") and "started" in line:
            run.send_signal(signal.SIGKILL)
            break
    run.wait(timeout=60)
    assert run.returncode == -signal.SIGKILL, "".join(lines)
    return lines


def assert_every_table_at_a_good_version(spark, tables: Tables) -> None:
    """Each table that exists reads whole at its latest version, and that version is one speedrun committed."""
    for role in ROLES:
        if tables.exists(spark, role):
            log = tables.log(spark, role)
            [(_, token)] = log.entries(version=log.versions()[0])
            assert token is not None, role
            tables.read(spark, role).count()


def test_runs_killed_in_each_step_leave_good_tables_and_the_next_run_succeeds(spark, tmp_path: Path) -> None:
    # GIVEN a dataset that has had one complete run
    args = dataset(tmp_path)
    tables = Tables(csv_config(tmp_path, str(tmp_path / "raw" / "d.csv")))
    assert subprocess.run([SPEEDRUN, "run", *args], cwd=ROOT, capture_output=True).returncode == 0
    until_the_server_is_idle()  # the run answered; the server has then saved its model and records
    runs_before = tables.read(spark, "training_runs").count()
    # WHEN runs are killed with SIGKILL in ingest, prepare, split and train, each run after the one killed before
    for step_name in ("ingest", "prepare", "split", "train"):
        kill_when_started(args, step_name)
        # THEN every table is at a version speedrun committed whole, readable
        assert_every_table_at_a_good_version(spark, tables)
    # AND the next run succeeds, adding its one training record
    final = subprocess.run([SPEEDRUN, "run", *args], cwd=ROOT, capture_output=True, text=True)
    assert final.returncode == 0, final.stderr[-2000:]
    until_the_server_is_idle()
    assert tables.read(spark, "training_runs").count() == runs_before + 1


def test_two_runs_at_once_each_succeed_or_say_another_run_is_writing(spark, tmp_path: Path) -> None:
    # GIVEN one dataset, and two runs of it started at the same moment (two terminals)
    args = dataset(tmp_path)
    tables = Tables(csv_config(tmp_path, str(tmp_path / "raw" / "d.csv")))
    runs = [start(args), start(args)]
    outcomes = [(run.wait(timeout=600), run.stderr.read()) for run in runs]
    # THEN each either succeeded, or ended with exit code 2 and one line saying another run is writing a table
    for code, err in outcomes:
        assert code in (0, 2), err[-3000:]
        if code == 2:
            errors = [line for line in err.splitlines() if line.startswith("speedrun run: error:")]
            assert len(errors) == 1 and "another run is writing" in errors[0], err[-3000:]
    # AND no table is left half-written, and the next run succeeds
    until_the_server_is_idle()
    assert_every_table_at_a_good_version(spark, tables)
    final = subprocess.run([SPEEDRUN, "run", *args], cwd=ROOT, capture_output=True, text=True)
    assert final.returncode == 0, final.stderr[-2000:]
    until_the_server_is_idle()


def test_a_run_answers_with_its_metrics_and_the_next_command_hears_if_what_the_server_finished_failed(
    spark, tmp_path: Path
) -> None:
    # GIVEN a dataset that has had one complete run in the server
    args = dataset(tmp_path)
    tables = Tables(csv_config(tmp_path, str(tmp_path / "raw" / "d.csv")))
    first = subprocess.run([SPEEDRUN, "run", *args], cwd=ROOT, capture_output=True, text=True)
    # THEN it answered with its metrics, saying what the server finishes after the answer
    assert first.returncode == 0, first.stderr[-2000:]
    assert "  areaUnderROC " in first.stdout
    assert "[speedrun] finish    the server finishes training_runs, " in first.stderr
    # AND the server finished it: the run is recorded
    until_the_server_is_idle()
    assert tables.read(spark, "training_runs").count() == 1
    # GIVEN the folder that keeps evaluated runs is a file: the last of a run's work fails
    evaluated = tmp_path / "runs" / "churn" / "evaluated"
    for kept in evaluated.iterdir():
        kept.unlink()
    evaluated.rmdir()
    evaluated.write_text("not a folder")
    # WHEN a run with another model key runs: it answers with its metrics, exit code 0
    second = subprocess.run([SPEEDRUN, "run", *args, "--set", "model.reg_param=0.2"], cwd=ROOT, capture_output=True)
    assert second.returncode == 0
    # THEN the next command tells, in one line, what failed after that answer, and runs
    rows = ["generate", "--rows", "20", "--output", str(tmp_path / "rows.csv")]
    third = subprocess.run([SPEEDRUN, *rows], cwd=ROOT, capture_output=True, text=True)
    told = [line for line in third.stderr.splitlines() if "failed after it answered" in line]
    assert len(told) == 1, third.stderr[-3000:]
    assert told[0].startswith("[speedrun] server    `speedrun run` failed after it answered, while finishing "), told
    assert "evaluated" in told[0], told
    # AND, started while the server still finished that run, it said it waited for it
    assert "[speedrun] server    busy with `speedrun run` (answered; finishing " in third.stderr, third.stderr[-3000:]
    assert third.returncode == 0, third.stderr[-3000:]
