"""A command's answer, given before the last of its work ends.

In the warm server, `speedrun run` and `speedrun tune` answer their client (the metrics printed, exit code 0) once
their steps are done; the server then finishes the work still running for the run (the model's save and
registration in MLflow, the run's records, the report) before it takes the next command, which waits for it, and is
told in one line if any of it failed. Everywhere else (a job, spark-submit, `--no-server`)
a command ends when all of its work has: there is no one to answer early.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

Answer = Callable[[list[str]], None]  # answers the client, given the work still running
_answer: Answer | None = None


@contextmanager
def answering_with(answer: Answer) -> Iterator[None]:
    """While a command runs in the server: how it answers its client early (one command at a time)."""
    global _answer
    _answer = answer
    try:
        yield
    finally:
        _answer = None


def answer_early(unfinished: list[str], summary: Callable[[], None]) -> bool:
    """Print `summary` and answer the client now, if this command can be answered before `unfinished` (the work
    still running) ends; whether it was."""
    if _answer is None or not unfinished:
        return False
    summary()
    _answer(unfinished)
    return True
