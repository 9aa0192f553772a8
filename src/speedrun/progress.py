"""Step-level progress on stderr (step, rows, elapsed time, Spark jobs) in place of Spark's console progress bar."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

_job_counter: list[Callable[[], int]] = []
_job_labeler: list[Callable[[str | None], None]] = []


def say(message: str) -> None:
    """One line on stderr, in one write: lines from background threads never run into each other (`print` writes
    the text and its newline separately, and the server relays each write to the client as it comes)."""
    sys.stderr.write(f"[speedrun] {message}\n")
    sys.stderr.flush()


def count_jobs_with(counter: Callable[[], int] | None) -> None:
    """Make every step report the Spark jobs it launched: `counter()` is the number launched so far."""
    _job_counter[:] = [counter] if counter else []


def label_jobs_with(labeler: Callable[[str | None], None] | None) -> None:
    """Name the Spark jobs each step (and each background write) launches, in Spark's UI and event log:
    `labeler(text)` labels the calling thread's jobs from now on, `labeler(None)` stops."""
    _job_labeler[:] = [labeler] if labeler else []


def label_jobs(text: str | None) -> None:
    for labeler in _job_labeler:
        with suppress(Exception):  # a stopped session: no label rather than an error in the middle of a step
            labeler(f"speedrun {text}" if text else None)


def jobs_so_far() -> int | None:
    try:
        return _job_counter[0]() if _job_counter else None
    except Exception:  # a stopped session: no count rather than an error in the middle of a step
        return None


class StepProgress:
    def __init__(self, name: str) -> None:
        self.name = name
        self.started = time.perf_counter()
        self.jobs_before = jobs_so_far()
        self.outcome = ""

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    @property
    def jobs(self) -> int | None:
        now = jobs_so_far()
        return None if now is None or self.jobs_before is None else now - self.jobs_before

    def done(self, outcome: str) -> None:
        """What the step produced, printed when it ends."""
        self.outcome = outcome


@contextmanager
def step(name: str) -> Iterator[StepProgress]:
    progress = StepProgress(name)
    say(f"{name:<9} started")
    label_jobs(name)
    try:
        yield progress
    except BaseException:
        say(f"{name:<9} FAILED after {progress.elapsed:.1f}s")
        raise
    finally:
        label_jobs(None)
    jobs = progress.jobs
    counted = f" ({jobs} Spark jobs)" if jobs is not None else ""
    say(f"{name:<9} done in {progress.elapsed:5.1f}s{counted}  {progress.outcome}".rstrip())
