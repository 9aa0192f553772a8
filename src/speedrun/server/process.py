"""The local speedrun server: one process that keeps a local Spark session (its JVM, Delta, the Python side of
Spark ML and MLflow) warm between `speedrun` commands, as the Gradle and Kotlin daemons keep their compilers warm.

`python -m speedrun.server.process FOLDER IDLE_MINUTES SETTINGS` is started in the background by the first command
(`server_client.reach`). It listens on 127.0.0.1 only and serves a client that proves it knows the token in
FOLDER (readable by the user only). Each command runs the same code as a one-shot `speedrun` command, in the
client's folder and environment, with its output relayed; one command at a time (a second one waits, with a line
saying so). A client that goes away (Ctrl-C) cancels its command's Spark jobs. The server stops after IDLE_MINUTES
without a command, or on `speedrun server stop`.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from multiprocessing.connection import Connection, Listener
from pathlib import Path
from typing import Any

from speedrun.cli import run_here
from speedrun.edges.session import get_spark
from speedrun.errors import INTERNAL_ERROR, USER_ERROR, SpeedrunError
from speedrun.progress import say
from speedrun.server.relay import as_the_client
from speedrun.server.state import STATE, TOKEN


class Server:
    def __init__(self, folder: Path, idle_minutes: float, settings: str) -> None:
        self.folder, self.idle_seconds, self.settings = folder, idle_minutes * 60, settings
        self.spark = get_spark("speedrun-server")
        self.started = time.time()
        self.last_command = time.time()
        self.running: tuple[str, float] | None = None
        self.one_command = threading.Lock()

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
                    conn.send({"exit": self.command(conn, request)})
            except (EOFError, OSError):
                pass

    def command(self, conn: Connection, request: dict[str, Any]) -> int:
        if not self.one_command.acquire(blocking=False):
            name, since = self.running or ("another command", time.time())
            waited = time.time() - since
            conn.send({"err": f"[speedrun] server    busy with `{name}` for {waited:.0f}s: this command waits\n"})
            self.one_command.acquire()
        # from here the command is this server's to finish: a client that loses the server before this line
        # runs its command in another one (the server was stopping)
        conn.send({"started": True})
        self.running = ("speedrun " + " ".join(request["argv"][:1]), time.time())
        try:
            with as_the_client(conn, request["cwd"], request["env"], self.folder), self.cancelled_if_gone(conn):
                uptime = time.time() - self.started
                say(f"spark     warm in the speedrun server (pid {os.getpid()}, up {uptime:.0f}s)")
                return run_here(request["argv"], self.spark)
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
            self.running, self.last_command = None, time.time()
            self.one_command.release()

    @contextmanager
    def cancelled_if_gone(self, conn: Connection) -> Iterator[None]:
        """While the command runs: if its client goes away (Ctrl-C, killed), cancel its Spark jobs and
        interrupt it."""
        done = threading.Event()
        worker = threading.get_ident()

        def watch() -> None:
            while not done.wait(0.5):
                try:
                    if conn.poll(0) and conn.recv() is not None:
                        continue
                except (EOFError, OSError):
                    log("the client went away: cancelling its command")
                    self.spark.sparkContext.cancelAllJobs()
                    ctypes.pythonapi.PyThreadState_SetAsyncExc(
                        ctypes.c_ulong(worker), ctypes.py_object(KeyboardInterrupt)
                    )
                    return

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            yield
        finally:
            done.set()

    def status(self) -> dict[str, Any]:
        import psutil

        me = psutil.Process()
        memory = sum(p.memory_info().rss for p in [me, *me.children(recursive=True)])
        running = self.running and {"command": self.running[0], "seconds": time.time() - self.running[1]}
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
