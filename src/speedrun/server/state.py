"""The local speedrun server's folder and the process behind it: the state file (pid, port, settings), the token
a connection proves it knows, the log; the settings a server is started with; reaching it. Standard library only."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
from contextlib import suppress
from multiprocessing.connection import Client, Connection
from pathlib import Path
from typing import Any

from speedrun.code import code_hash

STATE, TOKEN, LOG = "server.json", "token", "server.log"
# A server that does not answer a connection within this is taken as hung (its accept loop has a thread of its own).
ANSWER_SECONDS = float(os.environ.get("SPEEDRUN_SERVER_ANSWER_SECONDS", "20"))
START_SECONDS = 600.0
# What the server's JVM and interpreter are started with: a command whose values differ gets a new server.
SETTINGS_ENV = (
    "SPEEDRUN_MASTER",
    "SPEEDRUN_DELTA_JARS",
    "SPEEDRUN_DRIVER_MEMORY",
    "JAVA_HOME",
    "PYSPARK_PYTHON",
    "SPARK_HOME",
)


class Unreachable(Exception):
    """The server of a state file is gone or does not answer (the message says which)."""


def server_dir() -> Path:
    return Path(os.environ.get("SPEEDRUN_SERVER_DIR") or Path.home() / ".speedrun" / "server")


def settings() -> str:
    """What a server must share with the command: the interpreter (as resolved: `python` and `python3` of one
    environment are one) and its environment (`sys.prefix`: a venv of the same interpreter is another), the
    Spark-related environment variables, speedrun's code."""
    interpreter = [os.path.realpath(sys.executable), os.path.realpath(sys.prefix)]
    values = [*interpreter, code_hash(), *(f"{k}={os.environ.get(k, '')}" for k in SETTINGS_ENV)]
    return hashlib.sha256("\n".join(values).encode()).hexdigest()[:16]


def read_state(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((folder / STATE).read_text())
    except (OSError, ValueError):
        return None


def alive(pid: int) -> bool:
    """The process exists and is not a zombie (a killed server nobody has reaped yet)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    with suppress(OSError):
        return stat.read_text().rpartition(")")[2].split()[0] != "Z"
    return True


def connect(folder: Path, state: dict[str, Any]) -> Connection:
    """A connection that passed the token's challenge, or Unreachable."""
    if not alive(state["pid"]):
        raise Unreachable(f"(pid {state['pid']}) is gone")
    token = (folder / TOKEN).read_bytes()
    outcome: list[Any] = []

    def attempt() -> None:
        try:
            outcome.append(Client(("127.0.0.1", state["port"]), authkey=token))
        except Exception as exc:  # refused, reset, or a token that changed
            outcome.append(exc)

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(ANSWER_SECONDS)
    if not outcome:
        raise Unreachable(f"(pid {state['pid']}) does not answer within {ANSWER_SECONDS:.0f}s")
    if isinstance(outcome[0], ConnectionRefusedError):
        raise Unreachable(f"(pid {state['pid']}) is gone")
    if isinstance(outcome[0], Exception):
        raise Unreachable(f"(pid {state['pid']}) refused the connection ({type(outcome[0]).__name__})")
    return outcome[0]


def ask(folder: Path, request: dict[str, Any]) -> dict[str, Any] | None:
    """One request to the running server and its answer; None when no server runs or answers."""
    state = read_state(folder)
    if state is None:
        return None
    try:
        with connect(folder, state) as conn:
            conn.send(request)
            return conn.recv()
    except (Unreachable, EOFError, OSError):
        return None
