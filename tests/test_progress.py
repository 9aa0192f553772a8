"""Progress lines reach the terminal whole, even when background threads write theirs at the same moment."""

from __future__ import annotations

import io
import sys
import threading

import pytest

from speedrun.progress import say


class WritesAsSent(io.TextIOBase):
    """A stream that keeps each write apart, as the server's relay sends each one to the client as it comes."""

    def __init__(self) -> None:
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return len(text)


def test_each_progress_line_is_one_write_so_threads_cannot_run_lines_together(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN stderr relayed write by write, and two threads saying lines at once (a step and a background write)
    stream = WritesAsSent()
    monkeypatch.setattr(sys, "stderr", stream)
    threads = [threading.Thread(target=lambda n=n: [say(f"step{n} line {i}") for i in range(200)]) for n in (1, 2)]
    # WHEN they run
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # THEN every write is one whole line, so a reader looking for "[speedrun] train started" finds it
    assert len(stream.writes) == 400
    assert all(w.startswith("[speedrun] step") and w.endswith("\n") and w.count("\n") == 1 for w in stream.writes)
