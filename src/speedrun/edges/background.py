"""Work that runs in threads while a run goes on: table writes (each one commit) and MLflow logging.

`run` commits bronze and silver while the model is fitted on the same rows in memory, and logs the model to
MLflow and records the run while the test rows are scored. Writes run side by side; MLflow calls run one after
another in their own lane (one store, one run: the order of its calls is kept).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from pyspark.sql import DataFrame

from speedrun.edges.delta_log import Commit
from speedrun.edges.tables import Tables
from speedrun.progress import label_jobs, say

Lineage = dict[str, int | str] | Callable[[], dict[str, int | str]] | None


class BackgroundWrites:
    """Table writes, and other work, that run in threads while the caller goes on. Each write is one commit, as
    with `Tables.write`; a write whose lineage is a function waits for what it names (the versions of writes
    submitted before it). The first failure is raised by `wait()` or `close()`, or
    by `commit(role)` and `result(name)`; `close()` waits for everything."""

    def __init__(self, tables: Tables, announce: bool = True) -> None:
        self.tables, self.announce = tables, announce
        self.pool = ThreadPoolExecutor(max_workers=6, thread_name_prefix="speedrun-write")
        self.tracking = ThreadPoolExecutor(max_workers=1, thread_name_prefix="speedrun-tracking")
        self.pending: dict[str, Future[Any]] = {}
        self.seconds: dict[str, float] = {}  # each piece of work's own time, once it has ended

    def later(self, name: str, work: Callable[[], Any], lane: str = "tables") -> None:
        """Run `work` in the background: beside the writes, or in the `tracking` lane, after the MLflow work
        submitted before it."""
        self.pending[name] = (self.tracking if lane == "tracking" else self.pool).submit(self.timed(name, work))

    def timed(self, name: str, work: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> Any:
            started = time.perf_counter()
            try:
                return work()
            finally:
                self.seconds[name] = time.perf_counter() - started

        return run

    def result(self, name: str) -> Any:
        return self.pending[name].result()

    def submit(self, role: str, df: DataFrame, lineage: Lineage = None) -> None:
        submitted = time.perf_counter()

        def write() -> Commit:
            label_jobs(f"write {role}")
            commit = self.tables.write(df, role, lineage=lineage() if callable(lineage) else lineage)
            if self.announce:
                say(
                    f"{'write':<9} {role} v{commit.version}: {commit.rows:,} rows -> {self.tables.location(role)} "
                    f"({time.perf_counter() - submitted:.1f}s after it was queued)"
                )
            return commit

        self.pending[role] = self.pool.submit(self.timed(role, write))

    def commit(self, role: str) -> Commit:
        """The commit of `role`'s write, once done."""
        return self.pending[role].result()

    def wait(self, names: list[str] | None = None) -> dict[str, Any]:
        """Each write's commit (and other work's result), once all (or those `names`) are done; the first
        failure is raised."""
        futures = {name: self.pending[name] for name in names or self.pending}
        wait(list(futures.values()))
        return {name: future.result() for name, future in futures.items()}

    def running(self) -> list[str]:
        """The work not ended yet, by name."""
        return [name for name, future in self.pending.items() if not future.done()]

    def close(self, wait: bool = True) -> None:
        """Wait for everything (the first failure is raised), or, after a failure, only let the writes in flight
        end (each is one commit) and the MLflow work."""
        try:
            if wait:
                running = self.running()
                started = time.perf_counter()
                self.wait()
                if self.announce and running:
                    say(waited_line(time.perf_counter() - started, running, self.seconds))
        finally:
            self.pool.shutdown(wait=True)
            self.tracking.shutdown(wait=True)


def waited_line(waited: float, running: list[str], seconds: dict[str, float]) -> str:
    """What a run waited for at its end: the work still running then, with each one's own time."""
    names = sorted(running, key=lambda name: -seconds.get(name, 0.0))
    return f"{'finish':<9} waited {waited:.1f}s for " + ", ".join(f"{n} ({seconds.get(n, 0.0):.1f}s)" for n in names)
