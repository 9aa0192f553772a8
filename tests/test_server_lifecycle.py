"""The warm server as users leave it running between projects: started from a folder since deleted, reached through
another spelling of the interpreter, a step that fails unexpectedly inside it, and a soak of four clients in
folders made and deleted, with stops, idle stops and settings changes between their commands. Real processes."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from speedrun.server.client import alive, read_state

pytestmark = [pytest.mark.e2e, pytest.mark.server]

BIN = Path(sys.executable).parent
SPEEDRUN = str(BIN / "speedrun")
GENERATE = ["generate", "--rows", "20", "--output", "rows.csv"]
MISSING_SOURCE = "speedrun ingest: error: source not found: "


def speedrun(cwd: Path, *args: str, command: list[str] | None = None, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*(command or [SPEEDRUN]), *args], cwd=cwd, capture_output=True, text=True, env={**os.environ, **env}
    )


def folder(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


def test_a_server_started_in_a_folder_since_deleted_serves_commands_from_anywhere(
    own_server: Path, tmp_path: Path
) -> None:
    # GIVEN a server started by a command run in a folder that is then deleted
    first = folder(tmp_path / "first")
    assert speedrun(first, *GENERATE).returncode == 0
    pid = read_state(own_server)["pid"]
    shutil.rmtree(first)
    # WHEN a command runs in another folder
    later = speedrun(folder(tmp_path / "later"), *GENERATE)
    # THEN it runs, warm in that server, and writes where it was run
    assert later.returncode == 0, later.stderr
    assert f"warm in the speedrun server (pid {pid}," in later.stderr
    assert (tmp_path / "later" / "rows.csv").exists()
    # WHEN a command is started in a folder deleted under it
    gone = folder(tmp_path / "gone")
    shell = f"cd {gone} && rm -rf {gone} && exec {SPEEDRUN} {' '.join(GENERATE)}"
    orphan = subprocess.run(["bash", "-c", shell], capture_output=True, text=True)
    # THEN it ends in one line saying so, and the server still serves
    assert orphan.returncode == 2, orphan.stderr
    assert orphan.stderr.strip().endswith("the folder this command runs in no longer exists: cd to one that does")
    assert speedrun(tmp_path / "later", *GENERATE).returncode == 0
    assert read_state(own_server)["pid"] == pid


def test_a_step_that_fails_unexpectedly_in_the_server_is_one_line_and_the_server_serves_on(
    own_server: Path, tmp_path: Path
) -> None:
    # GIVEN a bronze table whose newest commit file is not JSON (a broken write of some other tool)
    here = folder(tmp_path / "project")
    sets = ["--set", f"storage.work_dir={here / 'work'}", "--set", "source.generate_if_missing.rows=50"]
    assert speedrun(here, "ingest", *sets).returncode == 0
    pid = read_state(own_server)["pid"]
    log = next((here / "work" / "warehouse").rglob("*_bronze/_delta_log"))
    (log / "00000000000000000001.json").write_text("not json\n")
    # WHEN prepare runs in the server
    failed = speedrun(here, "prepare", *sets)
    # THEN it ends with exit code 4 and one line naming the error, not as a server that stopped
    assert failed.returncode == 4, failed.stderr
    assert failed.stderr.strip().splitlines()[-1] == (
        "speedrun prepare: internal error: JSONDecodeError: Expecting value: line 1 column 1 (char 0) "
        "(--debug shows the stack trace)"
    )
    assert "server    stopped" not in failed.stderr
    # AND with --debug the stack trace comes through the server too
    debug = speedrun(here, "--debug", "prepare", *sets)
    assert debug.returncode == 4
    assert "Traceback (most recent call last):" in debug.stderr and "json.decoder.JSONDecodeError" in debug.stderr
    # AND the same server runs the next command
    after = speedrun(here, *GENERATE)
    assert after.returncode == 0, after.stderr
    assert f"warm in the speedrun server (pid {pid}," in after.stderr


def test_one_interpreter_reached_by_two_names_is_one_server(own_server: Path, tmp_path: Path) -> None:
    # GIVEN a server started through `python3` of this environment
    here = folder(tmp_path / "project")
    cli = ["-c", "import sys; from speedrun.cli import main; sys.exit(main())"]
    first = speedrun(here, *GENERATE, command=[str(BIN / "python3"), *cli])
    assert first.returncode == 0, first.stderr
    pid = read_state(own_server)["pid"]
    # WHEN a command comes through `python`, the same interpreter
    second = speedrun(here, *GENERATE, command=[str(BIN / "python"), *cli])
    # THEN it runs in that server, which is not replaced
    assert second.returncode == 0, second.stderr
    assert "runs other settings" not in second.stderr
    assert f"warm in the speedrun server (pid {pid}," in second.stderr


def ingest(work: Path, source: str) -> list[str]:
    sets = [f"storage.work_dir={work}", f"source.path={source}", "source.generate_if_missing=null"]
    sets += ["columns={id: null, label: {column: y}}", "server.idle_minutes=0.05"]
    return ["ingest", *[arg for s in sets for arg in ("--set", s)]]


def client(
    number: int,
    root: Path,
    commands: int,
    phases: list[dict[str, str]],
    outcomes: list,
    pause: threading.Event,
    together: threading.Barrier,
) -> None:
    """`commands` ingests, in a new folder every few, each deleted once left: of a small CSV (0) or of a missing
    source (2), under the settings of the phase it is in (the clients change phase together); a pause when the
    test asks for one."""
    here, chooser = None, random.Random(number)
    for i in range(commands):
        if i and i * len(phases) // commands != (i - 1) * len(phases) // commands:
            together.wait()
        if i % 4 == 0:
            if here is not None:
                shutil.rmtree(here)
            here = folder(root / f"client{number}-{i}")
            (here / "d.csv").write_text("x,y\n" + "".join(f"{k},{'ab'[k % 2]}\n" for k in range(20)))
        pause.wait()
        env = phases[i * len(phases) // commands]
        fails = chooser.random() < 0.9  # most of them cheap: the soak is of the server, not of ingest
        done = speedrun(here, *ingest(here / "work", "missing.csv" if fails else str(here / "d.csv")), **env)
        outcomes.append((number, i, fails, done.returncode, done.stderr))
    shutil.rmtree(here)


def serving(server: Path) -> int | None:
    state = read_state(server)
    return state["pid"] if state and alive(state["pid"]) else None


def wait_for(found, seconds: float):
    """What `found()` gives once it gives something, within `seconds`."""
    deadline = time.monotonic() + seconds
    while (value := found()) is None:
        assert time.monotonic() < deadline, "waited in vain"
        time.sleep(0.2)
    return value


def test_soak_four_clients_80_commands_with_stops_idle_stops_and_settings_changes(
    own_server: Path, tmp_path: Path
) -> None:
    # GIVEN four clients of 20 commands each, in folders made and deleted as they go, whose settings change
    # halfway (another Spark master) and back, against a server that stops after 3 idle seconds
    phases = [{}, {"SPEEDRUN_MASTER": "local[1]"}, {}]
    outcomes: list = []
    go = threading.Event()
    go.set()
    together = threading.Barrier(4, timeout=600)
    clients = [
        threading.Thread(target=client, args=(n, tmp_path, 20, phases, outcomes, go, together)) for n in range(4)
    ]
    for thread in clients:
        thread.start()
    # WHEN, meanwhile, a running server is stopped, and one left idle (every client paused until it stops)
    servers = set()
    for action in ("stop", "idle"):
        time.sleep(5)
        servers.add(wait_for(lambda: serving(own_server), 120))
        if action == "stop":
            stopped = speedrun(tmp_path, "server", "stop")
            assert stopped.returncode == 0 and "speedrun server: stopped (pid" in stopped.stdout, stopped
        else:
            go.clear()
            wait_for(lambda: read_state(own_server) is None or None, 120)
            go.set()
    for thread in clients:
        thread.join(timeout=900)
    # THEN every command ended with its own result: 0, or 2 with its one line; none with 3
    assert len(outcomes) == 80 and sum(not fails for _, _, fails, _, _ in outcomes) >= 5
    for number, i, fails, code, err in outcomes:
        assert code == (2 if fails else 0), (number, i, err)
        if fails:
            assert err.strip().splitlines()[-1].startswith(MISSING_SOURCE), (number, i, err)
    # AND the server was replaced along the way (stops, idle stops, settings), and the last one is one process
    assert len(servers) >= 2
    log = (own_server / "server.log").read_text()
    assert "stopping: stopped by a command" in log and "stopping: idle for 0.05 minutes" in log
    last = read_state(own_server)
    assert last is None or alive(last["pid"])
