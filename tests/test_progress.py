"""Progress lines reach the terminal whole, even when background threads write theirs at the same moment; a run
says what it waited for at its end."""

from __future__ import annotations

import io
import re
import sys
import threading
import time

import pytest

from speedrun.edges.background import BackgroundWrites, waited_line
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


def test_a_run_says_what_it_waited_for_at_its_end(capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN background work of a run (no table written): one still running when the run ends, one done before
    writes = BackgroundWrites(tables=None, announce=True)
    release = threading.Event()
    writes.later("quick", lambda: None)
    writes.wait(["quick"])
    writes.later("training_runs", lambda: release.wait(5) and time.sleep(0.2), lane="tracking")
    threading.Timer(0.1, release.set).start()
    # WHEN the run closes
    writes.close()
    # THEN one line says how long it waited, for the work that was still running, with that work's own time
    line = capsys.readouterr().err.strip()
    assert re.fullmatch(r"\[speedrun\] finish    waited 0\.\ds for training_runs \(0\.\ds\)", line), line


def test_the_waited_line_puts_the_longest_work_first() -> None:
    line = waited_line(2.25, ["report", "training_runs"], {"report": 1.0, "training_runs": 2.5})
    assert line == "finish    waited 2.2s for training_runs (2.5s), report (1.0s)"
