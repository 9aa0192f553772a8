"""Step-level progress on stderr (step, rows, elapsed time) in place of Spark's console progress bar."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager


def say(message: str) -> None:
    print(f"[speedrun] {message}", file=sys.stderr, flush=True)


class StepProgress:
    def __init__(self, name: str) -> None:
        self.name = name
        self.started = time.perf_counter()
        self.outcome = ""

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def done(self, outcome: str) -> None:
        """What the step produced, printed when it ends."""
        self.outcome = outcome


@contextmanager
def step(name: str) -> Iterator[StepProgress]:
    progress = StepProgress(name)
    say(f"{name:<9} started")
    try:
        yield progress
    except BaseException:
        say(f"{name:<9} FAILED after {progress.elapsed:.1f}s")
        raise
    say(f"{name:<9} done in {progress.elapsed:5.1f}s  {progress.outcome}".rstrip())
