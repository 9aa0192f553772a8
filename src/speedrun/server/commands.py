"""`speedrun server status` and `speedrun server stop`."""

from __future__ import annotations

import time
from typing import Any

from speedrun.server.client import stop
from speedrun.server.state import ask, server_dir


def describe(status: dict[str, Any]) -> str:
    """One line: pid, since when, port, memory, and what it does now."""
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(status["started"]))
    up = minutes(time.time() - status["started"])
    memory = status["memory_bytes"] / 2**30
    running = status["running"]
    finishing = running and running.get("finishing")
    doing = (
        f"running `{running['command']}` for {running['seconds']:.0f}s"
        + (f" (answered; finishing {', '.join(finishing)})" if finishing else "")
        if running
        else f"idle for {minutes(status['idle_seconds'])}, stops after {status['idle_minutes']:g} idle minutes"
    )
    return (
        f"speedrun server: running, pid {status['pid']}, since {since} (up {up}), 127.0.0.1:{status['port']}, "
        f"memory {memory:.1f} GiB (server and its Spark JVM), {doing}"
    )


def minutes(seconds: float) -> str:
    return f"{seconds:.0f}s" if seconds < 90 else f"{seconds / 60:.0f}m"


def server_command(action: str) -> int:
    """status: exit 0 if a server runs, 1 if not. stop: exit 0 either way."""
    folder = server_dir()
    if action == "status":
        status = ask(folder, {"op": "status"})
        print(describe(status) if status else f"speedrun server: not running ({folder})")
        return 0 if status else 1
    status = ask(folder, {"op": "status"})
    if status and status["running"]:
        print(
            f"speedrun server: stopping once `{status['running']['command']}` ends (Ctrl-C in its terminal cancels it)"
        )
    status = stop(folder)
    print(f"speedrun server: stopped (pid {status['pid']})" if status else "speedrun server: not running")
    return 0
