"""The local speedrun server: one process that keeps a local Spark session (its JVM, Delta, the Python side of
Spark ML and MLflow) warm between `speedrun` commands, as the Gradle and Kotlin daemons keep their compilers warm.

`python -m speedrun.server.process FOLDER IDLE_MINUTES SETTINGS` is started in the background by the first command
(`server_client.reach`). It listens on 127.0.0.1 only and serves a client that proves it knows the token in
FOLDER (readable by the user only). Each command runs the same code as a one-shot `speedrun` command, in the
client's folder and environment, with its output relayed; one command at a time (a second one waits, with a line
saying so). `run` and `tune` answer once their metrics are printed (`speedrun.answer`): the server then finishes
their model's save and records before the next command, which is told if that failed. A client that goes away
(Ctrl-C) before its answer cancels its command's Spark jobs. The server stops after IDLE_MINUTES
without a command, or on `speedrun server stop`.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import traceback
from contextlib import suppress
from multiprocessing.connection import Connection, Listener
from pathlib import Path
from typing import Any

from speedrun.answer import answering_with
from speedrun.cli import run_here
from speedrun.edges.model_files import SAVED
from speedrun.edges.session import get_spark
from speedrun.errors import INTERNAL_ERROR, USER_ERROR, SpeedrunError
from speedrun.progress import say
from speedrun.server.relay import EarlyAnswer, as_the_client, cancelled_if_gone
from speedrun.server.state import STATE, TOKEN


class Server:
    def __init__(self, folder: Path, idle_minutes: float, settings: str) -> None:
        self.folder, self.idle_seconds, self.settings = folder, idle_minutes * 60, settings
        self.spark = get_spark("speedrun-server")
        self.started = time.time()
        self.last_command = time.time()
        self.running: tuple[str, float] | None = None
        self.one_command = threading.Lock()
        self.failed_after_answer: str | None = None  # told to the next command
        self.answer: EarlyAnswer | None = None  # the running command's

    def serve(self) -> None:
        listener = Listener(("127.0.0.1", 0), authkey=(self.folder / TOKEN).read_bytes())
        self.port = listener.address[1]
        state = {"pid": os.getpid(), "port": self.port, "started": self.started, "settings": self.settings}
        (self.folder / f"{STATE}.new").write_text(json.dumps(state))
        (self.folder / f"{STATE}.new").replace(self.folder / STATE)
        log(f"serving on 127.0.0.1:{self.port}, stops after {self.idle_seconds / 60:g} idle minutes")
        threading.Thread(target=self.stop_when_idle, daemon=True).start()
        while True:
            try:
                conn = listener.accept()
            except Exception as exc:  # a client without the token, or one that went away during the challenge
                log(f"refused a connection: {type(exc).__name__}")
                continue
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()

    def handle(self, conn: Connection) -> None:
        with conn:
            try:
                request = conn.recv()
                if request["op"] == "status":
                    conn.send(self.status())
                elif request["op"] == "stop":  # once the running command ends: it ends with its own result
                    conn.send(self.status())
                    self.one_command.acquire()
                    self.shut_down("stopped by a command")
                elif request["op"] == "command":
                    code = self.command(conn, request)
                    if code is not None:
                        conn.send({"exit": code})
            except (EOFError, OSError):
                pass

    def command(self, conn: Connection, request: dict[str, Any]) -> int | None:
        """Run a command for its client; its exit code, or None when it answered the client before its work
        ended (`speedrun.answer`: the server finished that work, holding the command lock)."""
        if not self.one_command.acquire(blocking=False):
            busy = f"[speedrun] server    busy with {self.doing()}: this command waits\n"
            conn.send({"err": busy})
            self.one_command.acquire()
        # from here the command is this server's to finish: a client that loses the server before this line
        # runs its command in another one (the server was stopping)
        conn.send({"started": True})
        if self.failed_after_answer:
            conn.send({"err": self.failed_after_answer})
            self.failed_after_answer = None
        name = "speedrun " + " ".join(request["argv"][:1])
        self.running = (name, time.time())
        try:
            with (
                as_the_client(conn, request["cwd"], request["env"], self.folder) as relays,
                cancelled_if_gone(conn, self.spark, log) as client_may_leave,
                answering_with(answer := EarlyAnswer(conn, relays, client_may_leave)),
            ):
                self.answer = answer
                uptime = time.time() - self.started
                say(f"spark     warm in the speedrun server (pid {os.getpid()}, up {uptime:.0f}s)")
                code = run_here(request["argv"], self.spark)
            if answer.unfinished is None:
                return code
            if code != 0:
                self.failed_after_answer = answer.failure(name)
                log(self.failed_after_answer.strip())
            return None
        except KeyboardInterrupt:
            return 130
        except FileNotFoundError:  # the client's folder, deleted since it sent the command
            conn.send({"err": f"speedrun: error: the folder {request['cwd']} no longer exists\n"})
            return USER_ERROR
        except Exception:  # run_here answers every error of a command; this is the server's own
            log(f"a command failed in the server:\n{traceback.format_exc()}")
            conn.send({"err": f"speedrun: internal error in the server: {traceback.format_exc(limit=0).strip()}\n"})
            return INTERNAL_ERROR
        finally:
            self.running, self.answer, self.last_command = None, None, time.time()
            self.one_command.release()

    def doing(self) -> str:
        """What the server does now: the command, and for how long; once it answered, the work it finishes."""
        name, since = self.running or ("another command", time.time())
        left = self.answer and self.answer.unfinished
        finishing = f" (answered; finishing {', '.join(left)})" if left else ""
        return f"`{name}`{finishing} for {time.time() - since:.0f}s"

    def status(self) -> dict[str, Any]:
        import psutil

        me, memory = psutil.Process(), 0
        for process in [me, *me.children(recursive=True)]:
            with suppress(psutil.Error):  # a Python worker of Spark's that ended meanwhile
                memory += process.memory_info().rss
        running = self.running and {
            "command": self.running[0],
            "seconds": time.time() - self.running[1],
            "finishing": self.answer.unfinished if self.answer else None,  # once it answered its client
        }
        return {
            "pid": os.getpid(),
            "port": self.port,
            "started": self.started,
            "memory_bytes": memory,
            "idle_minutes": self.idle_seconds / 60,
            "idle_seconds": 0 if running else time.time() - self.last_command,
            "running": running,
            "folder": str(self.folder),
        }

    def stop_when_idle(self) -> None:
        """Stop after the idle time without a command, holding the command lock: no command starts meanwhile."""
        while True:
            time.sleep(min(5.0, self.idle_seconds / 4))
            if self.one_command.acquire(blocking=False):
                if time.time() - self.last_command > self.idle_seconds:
                    self.shut_down(f"idle for {self.idle_seconds / 60:g} minutes")
                self.one_command.release()

    def shut_down(self, why: str) -> None:
        log(f"stopping: {why}")
        state = self.folder / STATE
        if (json.loads(state.read_text()) if state.is_file() else {}).get("pid") == os.getpid():
            state.unlink(missing_ok=True)
        jvm = getattr(self.spark.sparkContext._gateway, "proc", None)  # the JVM pyspark started, our child
        stopping = threading.Thread(target=self.spark.stop, daemon=True)
        stopping.start()
        stopping.join(timeout=10)
        if jvm is not None:
            # its stdin closed, the JVM exits (pyspark's gateway ends on EOF); waiting for it reaps it here, where
            # a JVM left to outlive the server would linger as a zombie of whoever adopts it
            with suppress(Exception):
                jvm.stdin.close()
                jvm.wait(timeout=20)
        SAVED.clear()  # os._exit skips atexit
        os._exit(0)


def log(message: str) -> None:
    print(
        f"{time.strftime('%Y-%m-%d %H:%M:%S')} [speedrun server {os.getpid()}] {message}",
        file=sys.__stderr__,
        flush=True,
    )


def main() -> None:
    folder, idle_minutes, settings = Path(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
    os.environ["SPEEDRUN_SERVER"] = "0"  # what this process runs, it runs itself
    log("starting Spark")
    try:
        server = Server(folder, idle_minutes, settings)
    except SpeedrunError as exc:  # its last line is what the waiting command tells the user
        print(exc, file=sys.__stderr__, flush=True)
        sys.exit(2)
    server.serve()


if __name__ == "__main__":
    main()
