"""The command side of the local speedrun server: reach the warm server (start it, or replace one that died, hangs
or was started with other settings) and run a command in it, relaying its output and exit code.

Standard library only, so that a command costs a fraction of a second before it reaches the warm Spark.
The server's folder (`~/.speedrun/server`, or `SPEEDRUN_SERVER_DIR`) is readable by its user only; it holds the
token every connection must prove it knows (HMAC challenge of `multiprocessing.connection`), the server's state
(pid, port, start time) and its log.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from speedrun.errors import SERVER_GONE, SpeedrunError
from speedrun.progress import say
from speedrun.server.state import (
    LOG,
    START_SECONDS,
    STATE,
    TOKEN,
    Unreachable,
    alive,
    ask,
    connect,
    read_state,
    server_dir,
    settings,
)

STOPPING_RETRIES = 5  # a command whose server stops before it starts runs in the next one, this many times at most


def server_wanted(no_server: bool) -> bool:
    """Commands run in the warm server unless told not to, or when Spark is already given: under spark-submit,
    on a cluster, on Databricks."""
    opted_out = no_server or os.environ.get("SPEEDRUN_SERVER", "1").lower() in ("0", "false", "no", "off")
    spark_given = any(k in os.environ for k in ("SPARK_SUBMIT", "PYSPARK_GATEWAY_PORT", "DATABRICKS_RUNTIME_VERSION"))
    return not (opted_out or spark_given)


@contextmanager
def start_lock(folder: Path) -> Iterator[None]:
    """One command at a time decides whether to start a server (two commands at once start one)."""
    import fcntl

    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    with open(folder / "start.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def reach(folder: Path, idle_minutes: float) -> Connection:
    """A connection to a warm server with this command's settings: the running one, or a new one."""
    with start_lock(folder):
        state = read_state(folder)
        if state is not None:
            if state.get("settings") != settings():
                say(f"server    (pid {state['pid']}) runs other settings or code: replacing it when it is free")
                stop(folder)
            else:
                try:
                    return connect(folder, state)
                except Unreachable as exc:
                    say(f"server    {exc}: starting a new one")
                    kill(state["pid"])
        return start(folder, idle_minutes)


def start(folder: Path, idle_minutes: float) -> Connection:
    (folder / STATE).unlink(missing_ok=True)
    token = os.open(folder / TOKEN, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.write(token, secrets.token_hex(32).encode())
    os.close(token)
    command = [sys.executable, "-m", "speedrun.server.process", str(folder), str(idle_minutes), settings()]
    with open(folder / LOG, "ab") as log:
        process = subprocess.Popen(
            command,
            cwd=folder,  # its own folder: the one it was started from may be deleted while it runs
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    say(f"server    starting (pid {process.pid}): Spark warms up once, later commands reuse it")
    deadline = time.monotonic() + START_SECONDS
    while (state := read_state(folder)) is None or state["pid"] != process.pid:
        if process.poll() is not None or time.monotonic() > deadline:
            kill(process.pid)
            raise SpeedrunError(f"the speedrun server did not start: {last_line(folder / LOG)} (log: {folder / LOG})")
        time.sleep(0.05)
    return connect(folder, state)


def last_line(log: Path) -> str:
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no output"


def kill(pid: int) -> None:
    """End a server that hangs, and its JVM (the server leads its own process group)."""
    import signal

    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def stop(folder: Path) -> dict[str, Any] | None:
    """Stop the running server once its running command ends (commands waiting for it run in the next server)
    and wait until it is gone; its status when asked."""
    status = ask(folder, {"op": "stop"})
    if status is not None:
        while alive(status["pid"]):
            time.sleep(0.1)
    return status


def run_in_server(argv: list[str], idle_minutes: float) -> int:
    """Run `speedrun <argv>` in the warm server from here (this folder, this environment); its exit code."""
    folder = server_dir()
    try:
        here = os.getcwd()
    except FileNotFoundError:
        raise SpeedrunError("the folder this command runs in no longer exists: cd to one that does") from None
    request = {"op": "command", "argv": argv, "cwd": here, "env": dict(os.environ)}
    for _ in range(STOPPING_RETRIES):
        with reach(folder, idle_minutes) as conn:
            conn.send(request)
            code = relay(conn, folder)
        if code is not None:
            return code
        say("server    stopped before the command started (idle, stopped or replaced): running it in a new one")
    return SERVER_GONE


def relay(conn: Connection, folder: Path) -> int | None:
    """The command's output, relayed here, and its exit code; None if the server went away before it started."""
    started = False
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            if not started:
                return None
            say(f"server    stopped during the command: see {folder / LOG}")
            return SERVER_GONE
        if "exit" in message:
            return message["exit"]
        if "started" in message:
            started = True
            continue
        stream = sys.stdout if "out" in message else sys.stderr
        stream.write(message.get("out", message.get("err", "")))
        stream.flush()
