"""A command in the server runs as if in its client: in the client's folder and environment, its output sent to
the client as it is written."""

from __future__ import annotations

import io
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from multiprocessing.connection import Connection
from pathlib import Path


class Relay(io.TextIOBase):
    """A text stream that sends what is written to the command's client (`out` or `err`), from any thread."""

    def __init__(self, conn: Connection, key: str, lock: threading.Lock) -> None:
        self.conn, self.key, self.lock = conn, key, lock

    def write(self, text: str) -> int:
        if text:
            with self.lock, suppress(OSError):  # the client went away: its command is being cancelled
                self.conn.send({self.key: text})
        return len(text)

    def writable(self) -> bool:
        return True


@contextmanager
def as_the_client(conn: Connection, cwd: str, env: dict[str, str], home: Path) -> Iterator[None]:
    """Run in the client's folder and environment, its output relayed to it (commands run one at a time); then
    back in `home`, the server's own folder (not the folder it was started from, which may since be deleted)."""
    saved = (dict(os.environ), sys.stdout, sys.stderr)
    lock = threading.Lock()
    sys.stdout, sys.stderr = Relay(conn, "out", lock), Relay(conn, "err", lock)
    try:
        os.environ.clear()
        os.environ.update(env)
        os.chdir(cwd)
        yield
    finally:
        with suppress(OSError):
            os.chdir(home)
        os.environ.clear()
        os.environ.update(saved[0])
        sys.stdout, sys.stderr = saved[1], saved[2]
