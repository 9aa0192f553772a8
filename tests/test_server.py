"""The warm speedrun server: later commands run in it, status and stop, a refused stranger, a server that died or
hangs replaced, the idle stop, and commands that never need it."""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
import time
from contextlib import suppress
from importlib.metadata import version
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client
from pathlib import Path

import pytest
from tests_support import ROOT

from speedrun.cli import main
from speedrun.server.client import alive, read_state, server_wanted
from speedrun.server.commands import describe

SPEEDRUN = str(Path(sys.executable).parent / "speedrun")


def speedrun(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([SPEEDRUN, *args], cwd=ROOT, capture_output=True, text=True, env={**os.environ, **env})


def children_of(pid: int) -> list[int]:
    """The processes whose parent is `pid` (from /proc: each one's stat holds its parent after its name)."""
    found = []
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError):
            if int(stat_file.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat_file.parent.name))
    return found


def until_line_with(text: str, stream) -> list[str]:
    """The lines of `stream` read up to and with the first that holds `text` (all of them if none does)."""
    lines = []
    for line in stream:
        lines.append(line)
        if text in line:
            break
    return lines


def sets(overrides: list[str]) -> list[str]:
    return [arg for o in overrides for arg in ("--set", o)]


@pytest.mark.e2e
def test_later_commands_run_warm_in_one_server_that_status_describes_and_stop_ends(
    own_server: Path, tmp_path: Path, overrides_for
) -> None:
    args = sets(overrides_for(tmp_path / "work"))
    # WHEN a first command runs
    first = speedrun("ingest", *args)
    # THEN it started the server, in a folder only its user may read, and ran in it
    assert first.returncode == 0, first.stderr
    assert "[speedrun] server    starting (pid" in first.stderr
    pid = read_state(own_server)["pid"]
    assert stat.S_IMODE(own_server.stat().st_mode) == 0o700
    assert stat.S_IMODE((own_server / "token").stat().st_mode) == 0o600
    # WHEN a second command starts while the server runs another (a million rows: seconds after the second connects)
    generating = subprocess.Popen(
        [SPEEDRUN, "generate", "--rows", "1000000", "--output", str(tmp_path / "more")],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    generate_err = "".join(until_line_with("[speedrun] generate  started", generating.stderr))
    ingesting = subprocess.Popen([SPEEDRUN, "ingest", *args], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    ingest_err = ingesting.communicate(timeout=300)[1]
    generate_err += generating.communicate(timeout=300)[1]
    # THEN both succeed, warm in the same server, and the second said it waited for the first
    assert [generating.returncode, ingesting.returncode] == [0, 0], (generate_err, ingest_err)
    assert all(f"warm in the speedrun server (pid {pid}," in err for err in (generate_err, ingest_err))
    assert re.search(
        r"\[speedrun\] server    busy with `speedrun generate` for \d+s: this command waits", ingest_err
    ), ingest_err
    assert ingest_err.index("busy with") < ingest_err.index("warm in the speedrun server")
    # THEN a client without the token is refused
    with pytest.raises(AuthenticationError):
        Client(("127.0.0.1", read_state(own_server)["port"]), authkey=b"not the token")
    # THEN status says it runs: pid, port, memory
    status = speedrun("server", "status")
    assert status.returncode == 0
    assert f"speedrun server: running, pid {pid}, since " in status.stdout
    assert f"127.0.0.1:{read_state(own_server)['port']}, memory " in status.stdout
    # WHEN it is stopped
    jvms = children_of(pid)
    stopped = speedrun("server", "stop")
    # THEN it is gone, and status says so
    assert stopped.stdout.strip() == f"speedrun server: stopped (pid {pid})"
    assert not alive(pid)
    # AND so is its JVM: waited for by the server, not left a zombie for whoever adopts it
    assert jvms and not [jvm for jvm in jvms if Path(f"/proc/{jvm}").exists()]
    after = speedrun("server", "status")
    assert (after.returncode, after.stdout.strip()) == (1, f"speedrun server: not running ({own_server})")


@pytest.mark.e2e
def test_a_server_that_died_or_hangs_is_replaced_and_an_idle_one_stops(
    own_server: Path, tmp_path: Path, overrides_for
) -> None:
    args = sets(overrides_for(tmp_path / "work"))
    assert speedrun("ingest", *args).returncode == 0
    # GIVEN the server was killed
    dead = read_state(own_server)["pid"]
    os.killpg(dead, signal.SIGKILL)
    # WHEN the next command runs
    after_death = speedrun("ingest", *args)
    # THEN it says so and runs in a new one
    assert after_death.returncode == 0, after_death.stderr
    assert f"[speedrun] server    (pid {dead}) is gone: starting a new one" in after_death.stderr
    # GIVEN that one hangs
    hung = read_state(own_server)["pid"]
    assert hung != dead
    os.kill(hung, signal.SIGSTOP)
    # WHEN the next command runs (and starts a server that stops after 3 idle seconds)
    after_hang = speedrun("ingest", *args, "--set", "server.idle_minutes=0.05", SPEEDRUN_SERVER_ANSWER_SECONDS="3")
    # THEN the hung server is replaced, with a line saying so
    assert after_hang.returncode == 0, after_hang.stderr
    assert f"[speedrun] server    (pid {hung}) does not answer within 3s: starting a new one" in after_hang.stderr
    assert not alive(hung)
    # THEN the new one stops by itself once idle
    idle = read_state(own_server)["pid"]
    deadline = time.monotonic() + 60
    while alive(idle) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not alive(idle)
    assert read_state(own_server) is None


def test_a_config_error_is_one_line_before_any_server_starts(own_server: Path, capsys) -> None:
    # WHEN a command with a misspelt key is given, in server mode
    code = main(["run", "--set", "model.max_itr=5"])
    # THEN it ends in one line, and no server was started for it
    assert code == 2
    assert capsys.readouterr().err.strip().startswith("speedrun run: error: invalid config")
    assert read_state(own_server) is None


@pytest.mark.parametrize(
    ("env", "no_server", "wanted"),
    [
        ({}, False, True),
        ({}, True, False),
        ({"SPEEDRUN_SERVER": "0"}, False, False),
        ({"SPARK_SUBMIT": "1"}, False, False),
        ({"DATABRICKS_RUNTIME_VERSION": "17.3"}, False, False),
    ],
)
def test_the_server_runs_commands_unless_opted_out_or_spark_is_given(monkeypatch, env, no_server, wanted) -> None:
    # GIVEN an environment
    for key in ("SPEEDRUN_SERVER", "SPARK_SUBMIT", "PYSPARK_GATEWAY_PORT", "DATABRICKS_RUNTIME_VERSION"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    # THEN commands go to the server only when nothing opts out and no Spark is given
    assert server_wanted(no_server) is wanted


@pytest.mark.e2e
def test_a_server_that_cannot_start_ends_the_command_in_one_line_naming_why(own_server: Path, tmp_path: Path) -> None:
    # GIVEN Delta jars that are not where the environment says
    missing = tmp_path / "no-jars"
    # WHEN a command starts a server with that environment
    done = speedrun("ingest", SPEEDRUN_DELTA_JARS=str(missing))
    # THEN the command ends in one line saying why the server did not start, and where its log is
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        f"speedrun ingest: error: the speedrun server did not start: SPEEDRUN_DELTA_JARS={missing} has no "
        f"delta-spark_2.13-{version('delta-spark')}.jar: run `make delta-jars` or unset the variable "
        f"(log: {own_server / 'server.log'})"
    )


def test_status_says_what_a_run_that_answered_still_finishes() -> None:
    # GIVEN a server whose run answered its client and still saves the model and records
    started = time.time() - 600
    running = {"command": "speedrun run", "seconds": 12.4, "finishing": ["training_runs", "metrics"]}
    status = {"pid": 7, "port": 4040, "started": started, "memory_bytes": 2**30, "running": running}
    # WHEN status describes it
    line = describe(status)
    # THEN the line names the command and what it finishes
    assert line.endswith(
        "memory 1.0 GiB (server and its Spark JVM), running `speedrun run` for 12s (answered; finishing "
        "training_runs, metrics)"
    )
