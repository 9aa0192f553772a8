"""A command in the server runs as if in its client: in the client's folder and environment, its output sent to
the client as it is written, until the command has answered (`speedrun.answer`): what it writes after that goes
to the server's log, and is kept for the server to tell the next command if the work failed. A client that goes
away before the answer cancels its command."""

from __future__ import annotations

import ctypes
import io
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from speedrun.progress import say


class Relay(io.TextIOBase):
    """A text stream that sends what is written to the command's client (`out` or `err`), from any thread."""

    def __init__(self, conn: Connection, key: str, lock: threading.Lock) -> None:
        self.conn, self.key, self.lock = conn, key, lock
        self.after_answer: list[str] | None = None  # what was written once the client had its answer

    def write(self, text: str) -> int:
        if text:
            with self.lock, suppress(OSError):  # the client went away: its command is being cancelled
                if self.after_answer is None:
                    self.conn.send({self.key: text})
                else:
                    self.after_answer.append(text)
                    sys.__stderr__.write(text)
        return len(text)

    def detach(self, kept: list[str]) -> None:
        """From now on, write to the server's log and to `kept`, not to the client (which has its answer)."""
        with self.lock:
            self.after_answer = kept

    def writable(self) -> bool:
        return True


@contextmanager
def as_the_client(conn: Connection, cwd: str, env: dict[str, str], home: Path) -> Iterator[tuple[Relay, Relay]]:
    """Run in the client's folder and environment, its output relayed to it (commands run one at a time; the
    relays of stdout and stderr are given); then back in `home`, the server's own folder (not the folder it was
    started from, which may since be deleted)."""
    saved = (dict(os.environ), sys.stdout, sys.stderr)
    lock = threading.Lock()
    relays = Relay(conn, "out", lock), Relay(conn, "err", lock)
    sys.stdout, sys.stderr = relays
    try:
        os.environ.clear()
        os.environ.update(env)
        os.chdir(cwd)
        yield relays
    finally:
        with suppress(OSError):
            os.chdir(home)
        os.environ.clear()
        os.environ.update(saved[0])
        sys.stdout, sys.stderr = saved[1], saved[2]


@contextmanager
def cancelled_if_gone(conn: Connection, spark: Any, log: Callable[[str], None]) -> Iterator[threading.Event]:
    """While the command runs, until it answers (the event given, once set): if its client goes away (Ctrl-C,
    killed), cancel its Spark jobs and interrupt it."""
    done = threading.Event()  # set: the command ended, or answered its client, which may then leave
    worker = threading.get_ident()

    def watch() -> None:
        while not done.wait(0.5):
            try:
                if conn.poll(0) and conn.recv() is not None:
                    continue
            except (EOFError, OSError):
                if done.is_set():  # it left after its answer
                    return
                log("the client went away: cancelling its command")
                spark.sparkContext.cancelAllJobs()
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(worker), ctypes.py_object(KeyboardInterrupt))
                return

    threading.Thread(target=watch, daemon=True).start()
    try:
        yield done
    finally:
        done.set()


class EarlyAnswer:
    """How a command in the server answers its client before its work ends (`speedrun.answer`): a line saying
    what the server finishes, exit code 0, the client let go (leaving no longer cancels the command), and what the
    command writes from then on kept (`written`) for the line the next command shows if it fails."""

    def __init__(self, conn: Connection, relays: tuple[Relay, Relay], client_may_leave: threading.Event) -> None:
        self.conn, self.relays, self.client_may_leave = conn, relays, client_may_leave
        self.unfinished: list[str] | None = None  # once answered: the work the server finishes
        self.written: list[str] = []

    def __call__(self, unfinished: list[str]) -> None:
        say(f"{'finish':<9} the server finishes {', '.join(unfinished)}; the next command waits for it")
        self.client_may_leave.set()
        for relay in self.relays:
            relay.detach(self.written)
        self.conn.send({"exit": 0})
        self.unfinished = unfinished

    def failure(self, command: str) -> str:
        """The line the next command shows when the work left to the server failed: the command, what it left,
        and the error line it ended with."""
        lines = [line.strip() for line in "".join(self.written).splitlines() if line.strip()]
        error = next((line for line in reversed(lines) if line.startswith("speedrun")), lines[-1] if lines else "")
        left = ", ".join(self.unfinished or [])
        return f"[speedrun] server    `{command}` failed after it answered, while finishing {left}: {error}\n"
