"""The command line: one clear line and a non-zero exit for user errors; the stack trace only with --debug."""

from __future__ import annotations

import runpy
from importlib.metadata import distribution

import pytest
from tests_support import ROOT, write

from speedrun.cli import main, run_here
from speedrun.commands import STEPS
from speedrun.transforms.synthetic import COLUMNS


def test_misspelt_key_ends_in_one_line_and_exit_2(capsys) -> None:
    # WHEN a step is started with a misspelt key
    code = main(["train", "--set", "model.max_itr=5"])
    # THEN it exits 2 with one line naming the key, and no stack trace
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err == [
        "speedrun train: error: invalid config (packaged config 'default'): "
        "model.max_itr: unknown key for model type logistic_regression"
    ]


def test_debug_shows_the_stack_trace_then_the_line(capsys) -> None:
    # WHEN a step with a misspelt key is started with --debug
    code = main(["--debug", "train", "--set", "model.max_itr=5"])
    # THEN the stack trace comes first, the one line last, and the exit code is the same
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err[0] == "Traceback (most recent call last):"
    assert err[-1].startswith("speedrun train: error: invalid config") and err[-1].endswith(
        "unknown key for model type logistic_regression"
    )


def test_an_error_speedrun_did_not_foresee_ends_in_one_line_and_exit_4(spark, monkeypatch, capsys) -> None:
    # GIVEN a step that fails with an error of no speedrun type (a stand-in for a bug, in its own code)
    def fails(ctx):
        raise KeyError("no such thing")

    monkeypatch.setattr("speedrun.steps.ingest.ingest", fails)
    # WHEN it runs in this process
    code = run_here(["ingest"], spark)
    # THEN one line names the error and how to see its stack trace, and the exit code is its own
    err = [line for line in capsys.readouterr().err.splitlines() if not line.startswith("[speedrun]")]
    assert (code, err) == (
        4,
        ["speedrun ingest: internal error: KeyError: 'no such thing' (--debug shows the stack trace)"],
    )
    # AND with --debug, the stack trace, then the same line
    assert run_here(["--debug", "ingest"], spark) == 4
    err = capsys.readouterr().err
    assert "Traceback (most recent call last):" in err and 'raise KeyError("no such thing")' in err
    assert err.splitlines()[-1] == "speedrun ingest: internal error: KeyError: 'no such thing'"


def test_missing_config_file_ends_in_one_line(capsys) -> None:
    assert main(["run", "--config", "nope.yml"]) == 2
    assert "config file not found: nope.yml" in capsys.readouterr().err


def test_every_entry_point_runs_its_own_step(monkeypatch, capsys) -> None:
    # GIVEN the installed package's console scripts, which the bundle's python_wheel_tasks call: one per step
    scripts = {ep.name: ep for ep in distribution("speedrun").entry_points if ep.group == "console_scripts"}
    assert set(scripts) == {"speedrun", *(f"speedrun-{step}" for step in STEPS)}
    for step in STEPS:
        # WHEN each is called as a wheel task calls it, asking for its help
        monkeypatch.setattr("sys.argv", [f"speedrun-{step}", "--help"])
        with pytest.raises(SystemExit) as exited:
            scripts[f"speedrun-{step}"].load()()
        # THEN it is that step's command that answers
        assert exited.value.code == 0
        assert capsys.readouterr().out.startswith(f"usage: speedrun {step} "), step


def test_a_failed_step_called_as_a_wheel_task_raises_its_exit_code(monkeypatch, capsys) -> None:
    # GIVEN a step whose config has a misspelt key, started the way a python_wheel_task starts it: the entry
    # point loaded from the installed package's metadata and called, its return value ignored
    monkeypatch.setattr("sys.argv", ["speedrun", "--set", "model.max_itr=5"])
    for name in ("speedrun-validate", "speedrun-train", "speedrun-run"):
        entry = next(ep for ep in distribution("speedrun").entry_points if ep.name == name)
        # WHEN it is called THEN the call itself fails with exit code 2, which fails the task
        with pytest.raises(SystemExit) as exited:
            entry.load()()
        assert exited.value.code == 2, name
        assert "model.max_itr: unknown key" in capsys.readouterr().err


def test_every_step_has_a_job_script_that_runs_it(monkeypatch, capsys) -> None:
    for step in STEPS:
        # WHEN the step's job script is run, as spark-submit runs it, asking for its help
        monkeypatch.setattr("sys.argv", [f"{step}.py", "--help"])
        with pytest.raises(SystemExit) as exited:
            runpy.run_path(str(ROOT / "jobs" / f"{step}.py"), run_name="__main__")
        # THEN it is that step's command that answers
        assert exited.value.code == 0
        assert capsys.readouterr().out.startswith(f"usage: speedrun {step} "), step


def test_a_data_error_ends_in_one_line_naming_the_column(spark, tmp_path, capsys) -> None:
    # GIVEN a config naming a column the data does not have
    write(tmp_path / "raw" / "churn" / "part.csv", ",".join(COLUMNS) + "\n" + ",".join("1" * len(COLUMNS)) + "\n")
    args = ["ingest", "--set", f"storage.work_dir={tmp_path}", "--set", "columns.numeric=[age, income]"]
    # WHEN the step runs THEN it exits 2 with one line naming the column and listing those there
    assert main(args) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if not line.startswith("[speedrun]")]
    assert len(err) == 1
    assert err[0].startswith("speedrun ingest: error: column income not found in ")
    assert "its columns are: customer_id, age, tenure_months" in err[0]


def test_the_python_api_stays_callable_once_every_module_is_imported() -> None:
    # GIVEN every module of the package imported (a module named like an API function would replace it)
    import importlib
    import inspect
    import pkgutil

    import speedrun

    for module in pkgutil.walk_packages(speedrun.__path__, "speedrun."):
        importlib.import_module(module.name)
    # THEN speedrun.run and speedrun.tune are still the notebook functions, not modules of those names
    for api in (speedrun.run, speedrun.tune):
        assert (api.__module__, list(inspect.signature(api).parameters)[:2]) == ("speedrun", ["spark", "config"])


def test_a_budget_that_is_not_a_duration_ends_in_one_line_before_spark_starts(monkeypatch, capsys) -> None:
    # GIVEN a session factory that fails the test if any Spark session is asked for
    def no_spark(*args, **kwargs):
        raise AssertionError("a Spark session was asked for")

    monkeypatch.setattr("speedrun.edges.session.get_spark", no_spark)
    # WHEN tune is given a budget it cannot read
    code = main(["tune", "--budget", "soon"])
    # THEN it ends with exit code 2 and one line naming the option, before any Spark session is asked for
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["speedrun tune: error: --budget: 'soon' is not a duration: write e.g. 90s, 5m or 1h"]


def test_no_server_runs_the_command_in_this_process(spark, own_server, tmp_path, monkeypatch, capsys) -> None:
    # GIVEN no setting that keeps commands out of the server (the tests' own opt-out removed)
    for spark_given in ("SPARK_SUBMIT", "PYSPARK_GATEWAY_PORT", "DATABRICKS_RUNTIME_VERSION"):
        monkeypatch.delenv(spark_given, raising=False)
    # WHEN a command is given --no-server
    assert main(["--no-server", "generate", "--rows", "20", "--output", str(tmp_path / "g.csv")]) == 0
    # THEN it ran here: no server was started or reached
    assert "speedrun server" not in capsys.readouterr().err
    assert not own_server.exists()
