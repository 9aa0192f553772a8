"""How the bench times a contender: its whole process tree, wall clock and peak memory, and what speedrun's own
lines say of its steps and of the background work it waited for at the end."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent
STEP_DONE = re.compile(r"\[speedrun\] (\w+)\s+(?:done|started) in\s+([\d.]+)s(?: \((\d+) Spark jobs\))?")
WAITED = re.compile(r"\[speedrun\] finish\s+waited ([\d.]+)s for (.*)")  # the background work waited for at the end
LEFT = re.compile(r"\[speedrun\] finish\s+the server finishes (.*); the next command")  # answered before it ended
BUSY = re.compile(r"\[speedrun\] server\s+busy with ")  # the server was still finishing the run before


SERVER_DIR = Path(tempfile.gettempdir()) / "speedrun-bench-server"  # the bench's own server, not the user's


def server_tree() -> list[psutil.Process]:
    """The bench's speedrun server and its JVM, when one runs (their memory counts for the warm contenders)."""
    try:
        server = psutil.Process(json.loads((SERVER_DIR / "server.json").read_text())["pid"])
        return [server, *server.children(recursive=True)]
    except (OSError, ValueError, psutil.Error):
        return []


def stop_server() -> None:
    subprocess.run(["env", f"SPEEDRUN_SERVER_DIR={SERVER_DIR}", str(BIN / "speedrun"), "server", "stop"], check=True)


def measure(command: list[str], timeout: float) -> dict:
    """Run `command`; wall time until it exits, peak PSS of its process tree and of the bench's speedrun server
    (sampled every 0.1 s), its output. Before returning, waits for every process it started (a JVM outlives its
    Python for a moment)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = psutil.Popen(command, stdout=out, stderr=err, cwd=ROOT)
        peak, seen = 0, {}
        while process.poll() is None:
            if time.perf_counter() - started > timeout:
                for child in process.children(recursive=True):
                    child.kill()
                process.kill()
                process.wait()
                return {"status": "timeout", "seconds": timeout}
            try:
                tree = [process, *process.children(recursive=True)]
                seen.update({p.pid: p for p in tree[1:]})
                tree += server_tree()
                peak = max(peak, sum(p.memory_full_info().pss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.1)
        seconds = time.perf_counter() - started
        server = {p.pid for p in server_tree()}  # started by a command, lives on: not waited for
        psutil.wait_procs([p for pid, p in seen.items() if pid not in server], timeout=300)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    result = {"status": "ok" if process.returncode == 0 else "failed", "seconds": round(seconds, 2)}
    result["peak_memory_mb"] = round(peak / 2**20)
    if process.returncode != 0:
        result["error"] = stderr.strip().splitlines()[-1:] or ["(no output)"]
        return result
    auc = re.search(r'"auc": ([\d.]+)', stdout) or re.search(r"areaUnderROC\s+([\d.]+)", stdout)
    result["auc"] = float(auc.group(1)) if auc else None
    found = STEP_DONE.findall(stderr)
    if found:
        result["steps"] = {name: float(s) for name, s, _ in found}
        result["spark_jobs"] = {name: int(jobs) for name, _, jobs in found if jobs}
        waited = WAITED.search(stderr)
        result["waited"] = float(waited.group(1)) if waited else 0.0
        result["waited_for"] = waited.group(2) if waited else ""
        left = LEFT.search(stderr)
        result["left_to_the_server"] = left.group(1) if left else ""
        result["waited_for_the_run_before"] = bool(BUSY.search(stderr))
        # the command's start (and its wait for the server to finish the run before), the server's hand-over, the
        # up-to-date checks, the summary
        result["outside_steps"] = round(seconds - sum(result["steps"].values()) - result["waited"], 2)
    return result
